// JSON logs. Request bodies, keys, tokens and credentials are never logged; the redaction list is a
// second line of defence for fields that might carry them by mistake.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'mls-homeserver' },
    redact: { paths: ['*.authorization', '*.token', '*.password', '*.secret', '*.privateKey', 'headers.authorization'], censor: '[redacted]' },
  });
}
