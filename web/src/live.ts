// The one graphql-ws connection of the page, managed by hand rather than by graphql-ws's retries: after a
// drop every subscriber starts again with what it knows by then (the seat map passes the last sequence it
// applied), which a retried subscription with its first variables could not do. The browser going offline
// closes the socket at once, and a silent socket is closed after a missed pong (graphql-ws's keep-alive).
import { type Client, createClient } from 'graphql-ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { requestOf, session } from './api.ts';

export type Connection = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** Something that subscribes on every connection; returns how to stop. `again` is false the first time. */
export type Starter = (subscribe: SubscribeFn, again: boolean) => () => void;

export type SubscribeFn = <R, V>(
  document: TypedDocumentNode<R, V>,
  variables: V,
  onData: (data: R) => void,
  onError?: (error: unknown) => void,
) => () => void;

const PONG_TIMEOUT_MS = 3_000;
const KEEP_ALIVE_MS = 5_000;
const MAX_BACKOFF_MS = 5_000;

export class Live {
  state: Connection = 'connecting';
  private client: Client | undefined;
  private generation = 0;
  private attempts = 0;
  private connectedOnce = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly starters = new Map<Starter, (() => void) | undefined>();
  private readonly listeners = new Set<(state: Connection) => void>();

  constructor() {
    window.addEventListener('offline', () => this.drop('offline'));
    window.addEventListener('online', () => this.connect());
  }

  onState(listener: (state: Connection) => void): void {
    this.listeners.add(listener);
    listener(this.state);
  }

  /** Runs `starter` now if connected and on every later (re)connection, until the returned stop is called. */
  add(starter: Starter): () => void {
    this.starters.set(starter, undefined);
    if (this.client && this.state === 'connected') this.starters.set(starter, starter(this.subscribeFn(), false));
    return () => {
      this.starters.get(starter)?.();
      this.starters.delete(starter);
    };
  }

  /** A new session (sign in or out): the socket carries the token, so it is opened again. */
  restart(): void {
    this.drop('reconnecting');
    this.connect();
  }

  connect(): void {
    if (this.client || !navigator.onLine) {
      if (!navigator.onLine) this.setState('offline');
      return;
    }
    clearTimeout(this.retryTimer);
    const generation = ++this.generation;
    let socket: WebSocket | undefined;
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    const token = session.token();
    this.setState(this.connectedOnce ? 'reconnecting' : 'connecting');
    this.client = createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
      lazy: false,
      retryAttempts: 0,
      keepAlive: KEEP_ALIVE_MS,
      connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
      on: {
        connected: (s) => {
          if (generation !== this.generation) return;
          socket = s as WebSocket;
          const again = this.connectedOnce;
          this.connectedOnce = true;
          this.attempts = 0;
          this.setState('connected');
          for (const starter of this.starters.keys()) this.starters.set(starter, starter(this.subscribeFn(), again));
        },
        ping: (received) => {
          if (!received)
            pongTimer = setTimeout(() => {
              if (socket?.readyState === WebSocket.OPEN) socket.close(4408, 'pong timeout');
            }, PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: () => {
          clearTimeout(pongTimer);
          if (generation !== this.generation) return;
          this.drop(navigator.onLine ? 'reconnecting' : 'offline');
          if (navigator.onLine) {
            const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempts++);
            this.retryTimer = setTimeout(() => this.connect(), delay);
          }
        },
      },
    });
  }

  private drop(state: Connection): void {
    this.generation++;
    for (const [starter, stop] of this.starters) {
      stop?.();
      this.starters.set(starter, undefined);
    }
    const client = this.client;
    this.client = undefined;
    void client?.dispose();
    this.setState(state);
  }

  private setState(state: Connection): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  private subscribeFn(): SubscribeFn {
    const client = this.client!;
    return (document, variables, onData, onError) =>
      client.subscribe(requestOf(document, variables) as never, {
        next: (result) => {
          if (result.data) onData(result.data as never);
          else if (result.errors) onError?.(result.errors);
        },
        error: (error) => onError?.(error),
        complete: () => {},
      });
  }
}
