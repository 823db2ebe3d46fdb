-- wrk script of bench/lib/wrk.ts: POSTs the request bodies of a file (one JSON body a line) in turn,
-- checks every answer (status 2xx, a "data" member, no "errors" member) and prints one JSON line of
-- totals at the end. Usage: wrk -s wrk-bodies.lua <url> -- <bodies file>
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local requests = {}
local next_index = 0
-- Globals, so done() can read them from each thread with thread:get().
non2xx = 0
graphql_errors = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, { ["content-type"] = "application/json" }, line)
    end
  end
  file:close()
  -- Each thread starts at another place in the list, so threads do not march through it in lockstep.
  next_index = (id or 0) % #requests
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif not body:find('"data":', 1, true) or body:find('"errors":', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, requests_stats)
  local bad_status, bad_body = 0, 0
  for _, thread in ipairs(threads) do
    bad_status = bad_status + thread:get("non2xx")
    bad_body = bad_body + thread:get("graphql_errors")
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_RESULT {"requests":%d,"durationUs":%d,"non2xx":%d,"graphqlErrors":%d,"socketErrors":%d,' ..
      '"timeouts":%d,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f}\n',
    summary.requests, summary.duration, bad_status, bad_body, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
