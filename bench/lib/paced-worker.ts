// Worker thread of bench/lib/paced.ts: an open-loop, constant-rate HTTP/1.1 load generator. Request i is
// due at start + i / rate, whatever happened to the ones before it; a due request goes out on the next free
// keep-alive connection of a fixed pool (first free, first used), or waits for one. Its latency runs from
// the moment it was due to the end of its response, so time spent waiting behind a slow answer counts
// (no coordinated omission). The loop spins on setImmediate, so sends leave within a few microseconds of
// their due time instead of in 1 ms timer batches; it has a CPU to itself in the pinned runs. Kept in its
// own thread so the bench process's garbage collections never pause the clock or the sends.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';

export interface PacedInput {
  url: string;
  bodies: string[];
  rate: number;
  seconds: number;
  connections: number;
  /** Responses still missing this long after the last send are counted as timeouts. */
  timeoutSeconds: number;
}

export interface PacedOutput {
  sent: number;
  requests: number;
  seconds: number;
  /** Latency from due time to end of response, ms. */
  latency: Record<'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'mean', number>;
  /** How late each request left after its due time (waiting for a free connection or for the loop), ms. */
  sendLag: Record<'p50' | 'p99' | 'max', number>;
  non2xx: number;
  graphqlErrors: number;
  socketErrors: number;
  timeouts: number;
  /** Each 100 ms slice of the schedule whose slowest request took over 10 ms: [slice start ms, slowest ms]. */
  slowSlices: [number, number][];
  /**
   * Each time this loop itself did not run for over 5 ms: [ms into the run, gap ms]. Requests due in such a
   * gap leave late through no fault of the server (the generator's CPU was taken, or its own GC ran).
   */
  generatorGaps: [number, number][];
}

const input = workerData as PacedInput;
const target = new URL(input.url);
const port = Number(target.port);
const requestBytes = input.bodies.map((text) => {
  const payload = Buffer.from(text);
  const head =
    `POST ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
});
const histogram = (): hdr.Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const latency = histogram();
const lag = histogram();
const interval = 1000 / input.rate; // ms between due times
const total = Math.max(1, Math.round(input.rate * input.seconds));
const HEADER_END = Buffer.from('\r\n\r\n');
const ERRORS = Buffer.from('"errors":');

let non2xx = 0;
let graphqlErrors = 0;
let socketErrors = 0;
let completed = 0;
let sent = 0;
/** Slowest latency (µs) of the requests due in each 100 ms slice of the run. */
const slowestBySlice: number[] = [];

/** Due times of requests waiting for a connection, oldest first (a ring of request indexes). */
const waiting: number[] = [];
let waitingHead = 0;
let start = 0;
const dueAt = (i: number): number => start + i * interval;

class Connection {
  private socket: net.Socket;
  private pending: Buffer | undefined;
  /** Index of the request in flight, -1 when idle. */
  inFlight = -1;
  ready: Promise<void>;

  constructor() {
    this.socket = this.open();
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  private open(): net.Socket {
    const socket = net.connect({ host: target.hostname, port, noDelay: true });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.inFlight >= 0) socketErrors += 1;
      this.inFlight = -1;
      this.pending = undefined;
      if (!finished) {
        this.socket = this.open();
        this.socket.once('connect', () => release(this));
      }
    });
    return socket;
  }

  send(index: number, now: number): void {
    this.inFlight = index;
    lag.recordValue(Math.max(1, Math.round((now - dueAt(index)) * 1000)));
    sent += 1;
    this.socket.write(requestBytes[index % requestBytes.length]!);
  }

  private onData(chunk: Buffer): void {
    let buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const headerEnd = buffer.indexOf(HEADER_END);
      if (headerEnd < 0) break;
      const head = buffer.toString('latin1', 0, headerEnd);
      const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const bodyStart = headerEnd + 4;
      let bodyEnd: number;
      if (lengthMatch) bodyEnd = bodyStart + Number(lengthMatch[1]);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        bodyEnd = buffer.indexOf('0\r\n\r\n', bodyStart);
        if (bodyEnd < 0) break;
        bodyEnd += 5;
      } else bodyEnd = bodyStart;
      if (buffer.length < bodyEnd) break;
      const status = Number(head.slice(9, 12));
      if (status < 200 || status > 299) non2xx += 1;
      if (buffer.subarray(bodyStart, bodyEnd).includes(ERRORS)) graphqlErrors += 1;
      this.complete();
      buffer = buffer.subarray(bodyEnd);
    }
    this.pending = buffer.length ? buffer : undefined;
  }

  private complete(): void {
    if (this.inFlight < 0) return;
    const now = performance.now();
    const took = Math.max(1, Math.round((now - dueAt(this.inFlight)) * 1000));
    latency.recordValue(took);
    const slice = Math.floor((this.inFlight * interval) / 100);
    if (took > (slowestBySlice[slice] ?? 0)) slowestBySlice[slice] = took;
    completed += 1;
    this.inFlight = -1;
    release(this, now);
  }

  close(): void {
    this.socket.destroy();
  }
}

let finished = false;
const free: Connection[] = [];
let freeHead = 0;

/** A connection became free: it takes the oldest waiting request, or joins the end of the free list. */
function release(connection: Connection, now = performance.now()): void {
  if (waitingHead < waiting.length) connection.send(waiting[waitingHead++]!, now);
  else free.push(connection);
}

const connections = Array.from({ length: input.connections }, () => new Connection());
await Promise.all(connections.map((c) => c.ready));
free.push(...connections);

const result = await new Promise<PacedOutput>((resolve) => {
  let next = 0;
  let lastSendAt = 0;
  let lastTickAt = 0;
  const generatorGaps: [number, number][] = [];
  const tick = (): void => {
    const now = performance.now();
    if (lastTickAt > 0 && now - lastTickAt > 5) generatorGaps.push([lastTickAt - start, now - lastTickAt]);
    lastTickAt = now;
    while (next < total && dueAt(next) <= now) {
      if (freeHead < free.length) {
        const connection = free[freeHead++]!;
        connection.send(next, now);
      } else waiting.push(next);
      next += 1;
    }
    // Compact the two queues now and then instead of shifting on every request.
    if (freeHead > 1024) {
      free.splice(0, freeHead);
      freeHead = 0;
    }
    if (waitingHead > 1024) {
      waiting.splice(0, waitingHead);
      waitingHead = 0;
    }
    if (next < total) {
      lastSendAt = now;
      setImmediate(tick);
      return;
    }
    if (completed < sent || waitingHead < waiting.length) {
      if (now - lastSendAt < input.timeoutSeconds * 1000) {
        setImmediate(tick);
        return;
      }
    }
    finished = true;
    const inFlight = connections.filter((c) => c.inFlight >= 0).length + (waiting.length - waitingHead);
    for (const c of connections) c.close();
    const ms = (value: number): number => value / 1000;
    resolve({
      sent,
      requests: completed,
      seconds: (dueAt(total) - start) / 1000,
      latency: {
        p50: ms(latency.getValueAtPercentile(50)),
        p90: ms(latency.getValueAtPercentile(90)),
        p99: ms(latency.getValueAtPercentile(99)),
        p999: ms(latency.getValueAtPercentile(99.9)),
        max: ms(latency.maxValue),
        mean: ms(latency.mean),
      },
      sendLag: {
        p50: ms(lag.getValueAtPercentile(50)),
        p99: ms(lag.getValueAtPercentile(99)),
        max: ms(lag.maxValue),
      },
      non2xx,
      graphqlErrors,
      socketErrors,
      timeouts: inFlight,
      slowSlices: slowestBySlice.flatMap((worst, slice) => (worst > 10_000 ? [[slice * 100, ms(worst)]] : [])),
      generatorGaps: generatorGaps.map(([at, gap]) => [Math.round(at), Number(gap.toFixed(1))]),
    });
  };
  start = performance.now() + 5;
  setImmediate(tick);
});
parentPort!.postMessage(result);
