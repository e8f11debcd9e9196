// Ready examples (requests) and presets (policies). Each takes the context
// { api, pageOrigin, pagePort } and returns plain data.

export const EXAMPLES = [
  {
    id: 'simple-get',
    label: 'Simple GET',
    request: (c) => ({ url: `${c.api}/items`, method: 'GET', headers: '', bodyType: 'none', body: '', credentials: 'same-origin' }),
  },
  {
    id: 'json-post',
    label: 'JSON POST',
    request: (c) => ({ url: `${c.api}/items`, method: 'POST', headers: '', bodyType: 'json', body: '{"name": "new item"}', credentials: 'same-origin' }),
  },
  {
    id: 'delete-token',
    label: 'DELETE with a token',
    request: (c) => ({ url: `${c.api}/items/1`, method: 'DELETE', headers: 'Authorization: Bearer demo-token', bodyType: 'none', body: '', credentials: 'same-origin' }),
  },
  {
    id: 'credentialed',
    label: 'Credentialed request',
    request: (c) => ({ url: `${c.api}/me`, method: 'GET', headers: '', bodyType: 'none', body: '', credentials: 'include' }),
  },
  {
    id: 'custom-header',
    label: 'Custom header',
    request: (c) => ({ url: `${c.api}/items`, method: 'GET', headers: 'X-Requested-With: corsair-playground', bodyType: 'none', body: '', credentials: 'same-origin' }),
  },
  {
    id: 'redirect',
    label: 'Redirect',
    request: (c) => ({ url: `${c.api}/redirect?to=/items/1`, method: 'GET', headers: '', bodyType: 'none', body: '', credentials: 'same-origin' }),
  },
];

export const PRESETS = [
  {
    id: 'public-read-only',
    label: 'Public read-only API',
    note: '',
    toml: () => `[cors]
# A public, read-only API: any page may read it, without cookies.
allow_origins = ["*"]
allow_methods = ["GET", "HEAD"]
expose_headers = ["x-request-id", "x-total-count"]
max_age = 600
`,
  },
  {
    id: 'spa-cookies',
    label: 'Single-page app with cookies',
    note: '',
    toml: (c) => `[cors]
# One front end, cookies and tokens allowed.
allow_origins = ["${c.pageOrigin}"]
allow_methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
allow_headers = ["authorization", "content-type", "x-requested-with"]
expose_headers = ["x-request-id", "x-total-count"]
allow_credentials = true
max_age = 600
`,
  },
  {
    id: 'subdomains',
    label: 'Any subdomain of a domain',
    // Browsers resolve every *.localhost name to this machine, so the
    // playground itself can be opened from a subdomain.
    note: 'The pattern allows every subdomain of localhost on the playground\'s port. '
      + 'This page is on {pageOrigin}, which is not a subdomain, so the demo API refuses it. '
      + 'Open {subdomainUrl} (browsers resolve any *.localhost name to this machine) and run again: there it is allowed.',
    toml: (c) => `[cors]
# Any subdomain of localhost on the playground's port, e.g. http://app.localhost:${c.pagePort}
# (stands for https://*.example.com in production).
allow_origins = ["http://*.localhost:${c.pagePort}"]
allow_methods = ["GET", "POST", "DELETE"]
allow_headers = ["content-type", "authorization"]
max_age = 600
`,
  },
];
