import WebSocket from 'ws';

export interface WsMessage {
  id?: string;
  type: string;
  payload?: any;
}

/**
 * A bare graphql-transport-ws connection: every frame the server sends is
 * kept, and waits are bounded. For tests that need many subscriptions on
 * one socket, or frames a client library would not send.
 */
export class RawWs {
  readonly messages: WsMessage[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as WsMessage);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** Opens and acknowledges a connection with `Bearer <token>` (no token: no authorization). */
  static async connect(url: string, token: string | null): Promise<RawWs> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const ws = new RawWs(socket);
    ws.send({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} });
    await ws.until(() => ws.messages.some((m) => m.type === 'connection_ack'), 10_000, 'connection_ack');
    return ws;
  }

  send(message: WsMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  complete(id: string): void {
    this.send({ id, type: 'complete' });
  }

  of(id: string): WsMessage[] {
    return this.messages.filter((m) => m.id === id);
  }

  /** Resolves once `check()` holds; rejects after `ms` (or when the socket closed first). */
  async until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (check()) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`graphql-ws: no ${what} within ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      if (this.closeCode !== undefined) throw new Error(`graphql-ws: closed (${this.closeCode}) before ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
