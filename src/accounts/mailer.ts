// Outgoing mail behind one small interface: nodemailer over SMTP when SMTP_URL is set, otherwise a mailer
// that sends nothing and says so in the log. Message bodies (which hold reset links) and addresses are
// never logged.
import nodemailer from 'nodemailer';
import type { Logger } from '../infra/logger.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export function createMailer(options: { smtpUrl: string | undefined; from: string; logger: Logger }): Mailer {
  const { smtpUrl, from, logger } = options;
  if (!smtpUrl) {
    return {
      async send(message) {
        logger.warn({ subject: message.subject }, 'no SMTP_URL: mail not sent');
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
    close() {
      transport.close();
    },
  };
}
