// A real SMTP server (the smtp-server package) on a free 127.0.0.1 port, keeping every message it
// receives, parsed (mailparser), so tests read what the gateway really sent over SMTP.
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { getFreePort } from './free-port.ts';
import { waitUntil } from './wait.ts';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
}

export interface TestSmtpServer {
  url: string;
  messages: ReceivedMail[];
  /** Waits for a message to `to` beyond the first `after` ones; throws after the timeout. */
  nextTo(to: string, after?: number, timeoutMs?: number): Promise<ReceivedMail>;
  stop(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          });
          callback();
        })
        .catch(callback);
    },
  });
  const port = await getFreePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async nextTo(to, after = 0, timeoutMs = 10_000) {
      const find = () => messages.filter((m) => m.to.includes(to))[after];
      await waitUntil(() => find() !== undefined, timeoutMs, `mail #${after + 1} to ${to}`);
      return find()!;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
