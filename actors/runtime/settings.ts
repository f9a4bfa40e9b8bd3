// Reading settings from an environment-like map: every problem is collected, then reported at once in
// one SettingsError, which the node process turns into exit code 2. Used by the node configuration
// and by each module for its own settings.

export type SettingsSource = Readonly<Record<string, string | undefined>>;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';

  constructor(readonly problems: string[], scope = 'configuration') {
    super(`invalid ${scope}:\n  - ${problems.join('\n  - ')}`);
  }
}

export class SettingsReader {
  readonly problems: string[] = [];

  constructor(private readonly source: SettingsSource) {}

  /** The trimmed value, or undefined when unset or empty. */
  text(name: string): string | undefined {
    const value = this.source[name]?.trim();
    return value === '' ? undefined : value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    this.problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }

  /** A duration given in seconds, returned in milliseconds. */
  seconds(name: string, fallbackSeconds: number, min: number, max: number): number {
    return this.integer(name, fallbackSeconds, min, max) * 1000;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    return fallback;
  }

  /** Returns `settings`, or throws every problem found while reading them. */
  done<T>(settings: T, scope?: string): T {
    if (this.problems.length > 0) throw new SettingsError(this.problems, scope);
    return settings;
  }
}
