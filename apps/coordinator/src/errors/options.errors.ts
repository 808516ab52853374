/** An option set in code or configuration holds a value its class cannot work with. */
export class InvalidOptionError extends Error {
  override readonly name = 'InvalidOptionError';

  /** `owner`: the options interface, e.g. ShardDispatcherOptions; `rule`: what the value must be. */
  constructor(owner: string, option: string, value: unknown, rule: string) {
    super(`${owner}.${option} must be ${rule}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}
