// A subscriber connection can go deaf with nothing to show for it: a half-open TCP connection (a load
// balancer or NAT that dropped it silently), a sharded subscription Redis ended or ioredis dropped, a
// client library bug. Its status stays "ready" and no error comes, while every invalidation sent to this
// instance is lost and it serves old values for good. So the bus checks its channels end to end: now and
// then it publishes a probe of its own on each channel it listens to and expects to hear it back before
// the next round. A channel not heard back in two rounds in a row is reported lost, to be repaired by
// whoever owns the connection. A probe that could not be sent (Redis away) says nothing either way.
import { randomBytes } from 'node:crypto';

/** Probe texts start with this; no payload of the cache codec does (tagged JSON). */
const PROBE_MARK = 'probe:';
/** Rounds in a row a probe may go unheard before its channel is reported lost. */
const MISSES_TO_LOSE = 2;

export interface ChannelProbeOptions {
  /** The channels listened to now. */
  channels: () => Iterable<string>;
  /** Publishes a text on a channel (through the circuit: fails at once while Redis is away). */
  send: (channel: string, text: string) => Promise<unknown>;
  /** Channels whose probes went unheard for two rounds: their subscription must be made again. */
  onLost: (channels: string[]) => void;
  intervalMs: number;
  /** At most this many channels are probed per round, in turns. */
  perRound: number;
}

export class ChannelProbes {
  /** Tells this instance's probes from other instances' probes on the same channel. */
  private readonly token = randomBytes(6).toString('hex');
  private sequence = 0;
  /** Probes sent in the current round and not heard back yet: channel → sequence. */
  private readonly unheard = new Map<string, number>();
  /** Rounds in a row each channel's probe went unheard. */
  private readonly misses = new Map<string, number>();
  /** Channels still to probe before the list is read again. */
  private turn: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: ChannelProbeOptions) {
    // The round runs after the loop has read its sockets: a loop that was busy past a round's time has a
    // probe waiting to be read, and timers run before I/O is polled.
    this.timer = setInterval(() => setImmediate(() => this.round()), options.intervalMs);
    this.timer.unref();
  }

  /** True when `text` is a probe (this instance's or another's): it is no message for the listeners. */
  heard(channel: string, text: string): boolean {
    if (!text.startsWith(PROBE_MARK)) return false;
    if (text === this.probeText(this.unheard.get(channel) ?? -1)) {
      this.unheard.delete(channel);
      this.misses.delete(channel);
    }
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private probeText(sequence: number): string {
    return `${PROBE_MARK}${this.token}:${sequence}`;
  }

  private round(): void {
    if (this.stopped) return;
    const lost: string[] = [];
    for (const channel of this.unheard.keys()) {
      const misses = (this.misses.get(channel) ?? 0) + 1;
      if (misses < MISSES_TO_LOSE) this.misses.set(channel, misses);
      else {
        this.misses.delete(channel);
        lost.push(channel);
      }
    }
    this.unheard.clear();
    const listened = new Set(this.options.channels());
    // A channel no longer listened to has no subscription to lose.
    for (const channel of this.misses.keys()) if (!listened.has(channel)) this.misses.delete(channel);
    const stillListened = lost.filter((channel) => listened.has(channel));
    if (stillListened.length > 0) this.options.onLost(stillListened);
    for (const channel of this.nextChannels(listened)) this.probe(channel);
  }

  private nextChannels(listened: Set<string>): string[] {
    if (this.turn.length === 0) this.turn = [...listened];
    return this.turn.splice(0, this.options.perRound).filter((channel) => listened.has(channel));
  }

  private probe(channel: string): void {
    const sequence = ++this.sequence;
    this.unheard.set(channel, sequence);
    this.options.send(channel, this.probeText(sequence)).catch(() => {
      // Not sent: nothing learnt about the subscription.
      if (this.unheard.get(channel) === sequence) this.unheard.delete(channel);
    });
  }
}
