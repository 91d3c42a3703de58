// The REST API client. The bearer token lives in sessionStorage only: it is
// gone when the tab closes and is never written anywhere else.
const TOKEN_KEY = 'ferry.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (t) => (t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY)),
};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const t = token.get();
  if (t && method !== 'GET') headers.Authorization = `Bearer ${t}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = json && typeof json.error === 'string' ? json.error : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg, json);
  }
  return { status: res.status, body: json };
}

const pipePath = (name) => `/api/v1/pipes/${encodeURIComponent(name)}`;

export const api = {
  pipes: () => call('GET', '/api/v1/pipes').then((r) => r.body),
  pipe: (name) => call('GET', pipePath(name)).then((r) => r.body),
  tables: (name) => call('GET', `${pipePath(name)}/tables`).then((r) => r.body),
  history: (name) => call('GET', `${pipePath(name)}/history`).then((r) => r.body),
  metrics: (name) => call('GET', `${pipePath(name)}/metrics`).then((r) => r.body),
  check: (name, confirm = false) => call('POST', `${pipePath(name)}/check`, { confirm }).then((r) => r.body),
  compare: (name, body = {}) => call('POST', `${pipePath(name)}/compare`, body).then((r) => r.body),
  act: (name, action, body = {}) => call('POST', `${pipePath(name)}/${action}`, body).then((r) => r.body),
};
