import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Anything that could carry a credential is redacted by
 * path, wherever it appears in a logged object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'req.headers.authorization',
          'req.headers["idempotency-key"]',
          '*.secretKey',
          '*.secret_key',
          '*.webhookSecret',
          '*.webhook_secret',
          '*.clientSecret',
          '*.apiKey',
          'secretKey',
          'webhookSecret',
          'clientSecret',
          'apiKey',
          'connectionParams',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
