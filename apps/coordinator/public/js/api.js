/** Calls the coordinator's REST API; a non-2xx answer throws an ApiError carrying the server's messages. */
export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join('; '));
    this.status = status;
    this.messages = messages;
  }
}

/** Kept for this tab only: a coordinator started with API_TOKEN refuses changes without it. */
const TOKEN_KEY = 'resnet-cluster-api-token';

export async function api(method, path, body) {
  let res = await send(method, path, body);
  if (res.status === 401) {
    const token = prompt('This coordinator requires an API token (the API_TOKEN it was started with):');
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      res = await send(method, path, body);
    }
    if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  }
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    // Nest answers { message: string | string[] }; validation errors list one message per problem.
    const message = json?.message ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, Array.isArray(message) ? message : [message]);
  }
  return json;
}

function send(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return fetch(path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
