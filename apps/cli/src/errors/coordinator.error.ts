/** The coordinator answered with an error; `messages` are its own words (validation lists one per problem). */
export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  constructor(
    readonly status: number,
    readonly messages: string[],
  ) {
    super(messages.length === 1 ? messages[0] : ['the coordinator answered:', ...messages].join('\n  - '));
  }
}
