// On a Redis Cluster, one master can die while the others serve: the circuit must not open for every
// slot, yet each command for the dead master's slots would wait out redirections or the command timeout
// (several times per read: lookup, fill claim, fill). The guard marks that node down on its first
// certain fault (connection closed, redirections exhausted, CLUSTERDOWN) or on a few timeouts in a row,
// and from then on a command for a slot it serves fails at once, so the request falls back to PostgreSQL
// without waiting. A background probe refreshes the slot map and PINGs the node: the mark goes when its
// slots have moved to the promoted replica or the node answers again, and `recovered` tells the circuit
// (docs/ARCHITECTURE.md "Redis topologies").
import { EventEmitter } from 'node:events';
import { ReplyError, type Command } from 'ioredis';
import type { Logger } from '../infra/logger.ts';
import type { Cluster } from './connection.ts';

/** A command refused without being sent: the master of its slot is down. */
export class SlotOwnerDownError extends Error {
  constructor(readonly node: string) {
    super(`redis cluster node ${node} is down`);
    this.name = 'SlotOwnerDownError';
  }
}

/** Timeouts in a row from one node that mark it down (a connection fault marks it at once). */
const TIMEOUTS_TO_MARK = 3;
/** Replies that say the slot is not served right now: the node's fault, not the command's. */
const UNSERVED_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING)\b/;
/** Pub/sub commands belong to ioredis's own subscriber connections: never refused here. */
const SUBSCRIBER_COMMANDS = new Set([
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
]);

type SendCommand = (command: Command, stream?: unknown, node?: { slot?: number }) => Promise<unknown>;

export class ClusterNodeGuard extends EventEmitter<{ recovered: [node: string] }> {
  /** Node key (host:port) → consecutive timeouts; a node is down when it is in `down`. */
  private readonly timeouts = new Map<string, number>();
  private readonly down = new Set<string>();
  /** Errors already charged to a node: the circuit does not count them against the whole cluster. */
  private readonly charged = new WeakSet<Error>();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private disposed = false;
  private readonly log: Logger;

  constructor(
    private readonly cluster: Cluster,
    private readonly probeIntervalMs: number,
    logger: Logger,
  ) {
    super();
    this.log = logger.child({ component: 'redis-node-guard' });
    // Every command of the cluster client passes through its sendCommand: wrapping it on this instance is
    // the one place that sees each command's slot before it is sent.
    const send = (cluster.sendCommand as SendCommand).bind(cluster);
    (cluster as unknown as { sendCommand: SendCommand }).sendCommand = (command, stream, node) =>
      this.guarded(send, command, stream, node);
  }

  /** Whether `error` was a node's fault already charged to that node (or a refusal because of one). */
  charges(error: unknown): boolean {
    return error instanceof SlotOwnerDownError || (error instanceof Error && this.charged.has(error));
  }

  /** Nodes marked down right now (host:port). */
  get downNodes(): string[] {
    return [...this.down];
  }

  dispose(): void {
    this.disposed = true;
    this.stopProbe();
  }

  private stopProbe(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private guarded(send: SendCommand, command: Command, stream: unknown, node: { slot?: number } | undefined) {
    if (SUBSCRIBER_COMMANDS.has(command.name)) return send(command, stream, node);
    const slot = node?.slot ?? command.getSlot();
    const owner = typeof slot === 'number' ? this.cluster.slots[slot]?.[0] : undefined;
    if (owner === undefined) return send(command, stream, node);
    if (this.down.has(owner)) {
      command.reject(new SlotOwnerDownError(owner));
      return command.promise;
    }
    const reply = send(command, stream, node);
    reply.then(
      () => this.timeouts.delete(owner),
      (error: unknown) => this.judge(owner, error),
    );
    return reply;
  }

  private judge(owner: string, error: unknown): void {
    if (!(error instanceof Error)) return;
    if (error instanceof ReplyError && !UNSERVED_REPLY.test(error.message)) return; // an answer: the node is up
    if (error.message === 'Command timed out') {
      const count = (this.timeouts.get(owner) ?? 0) + 1;
      this.timeouts.set(owner, count);
      if (count < TIMEOUTS_TO_MARK) return;
    }
    this.charged.add(error);
    this.markDown(owner, error.message);
  }

  private markDown(owner: string, reason: string): void {
    this.timeouts.delete(owner);
    if (this.down.has(owner)) return;
    this.down.add(owner);
    this.log.warn({ node: owner, reason }, 'redis cluster node down: its slots are served from PostgreSQL');
    if (this.probeTimer || this.disposed) return;
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** Refreshes the slot map, then clears each down node that serves no slot any more or answers a PING. */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await new Promise<void>((resolve) => this.cluster.refreshSlotsCache(() => resolve()));
      const owners = new Set(this.cluster.slots.map((nodes) => nodes?.[0]));
      const connections = new Map(this.cluster.nodes('all').map((n) => [`${n.options.host}:${n.options.port}`, n]));
      for (const node of this.down) {
        const answers =
          !owners.has(node) ||
          (await connections
            .get(node)
            ?.ping()
            .then(
              () => true,
              () => false,
            ));
        if (answers) this.recover(node);
      }
    } finally {
      this.probing = false;
    }
  }

  private recover(node: string): void {
    this.down.delete(node);
    this.log.info({ node }, 'redis cluster node back: its slots are served by Redis again');
    if (this.down.size === 0) this.stopProbe();
    this.emit('recovered', node);
  }
}
