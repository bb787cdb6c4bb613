// The status page: reads /status/events (SSE, through fetch so that it can send the key), draws the
// servers table on every snapshot, and posts start/stop/restart. Text only goes in through textContent.
'use strict';
const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem('mcp-gateway-key') ?? '';
let controller;

function headers() {
  return key ? { authorization: `Bearer ${key}` } : {};
}

function since(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (cls) td.className = cls;
  tr.append(td);
  return td;
}

function badge(el, text) {
  el.textContent = text;
  el.className = `badge ${text}`;
}

async function act(name, action) {
  const res = await fetch(`/mcp/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: headers() });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    problem(`${action} ${name}: ${body.error?.message ?? res.status}`);
  }
}

function problem(text) {
  $('problem').textContent = text;
  $('problem').hidden = !text;
}

function render(view) {
  const rows = view.servers.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.server = s.name;
    cell(tr, s.name);
    badge(cell(tr, '').appendChild(document.createElement('span')), s.state);
    cell(tr, s.pid ?? (s.children ? `${s.children.length} children` : '–'), 'pid');
    cell(tr, String(s.restarts));
    cell(tr, since(s.since));
    cell(tr, s.lastStartAt ? since(s.lastStartAt) : '–', 'last-start');
    cell(tr, String(s.sessions ?? 0));
    // A failed rollout leaves the old child serving: say so beside the state, it is what needs fixing.
    const rollout = s.rolloutFailure ? `rollout failed: ${s.rolloutFailure.error}` : s.rollout ? `rollout: ${s.rollout}` : '';
    cell(tr, [rollout, s.lastError ?? ''].filter(Boolean).join('; '), 'last-error');
    const actions = cell(tr, '');
    for (const action of ['start', 'stop', 'restart']) {
      const b = document.createElement('button');
      b.textContent = action;
      b.name = action;
      b.addEventListener('click', () => act(s.name, action));
      actions.append(b);
    }
    return tr;
  });
  $('servers').replaceChildren(...rows);
  // The aggregate endpoint and the bundles: which servers each shows this key, under which prefix.
  const endpoints = (view.endpoints ?? []).map((e) => {
    const tr = document.createElement('tr');
    tr.dataset.endpoint = e.path;
    cell(tr, e.path, 'path');
    cell(tr, e.servers.map((s) => (s.prefix === s.name ? s.name : s.prefix === '' ? `${s.name} (no prefix)` : `${s.name} as ${s.prefix}`)).join(', ') || '–');
    cell(tr, e.description ?? '');
    return tr;
  });
  $('endpoint-rows').replaceChildren(...endpoints);
  const m = view.manifest;
  badge($('manifest-state'), m.state);
  $('manifest-file').textContent = m.file;
  $('manifest-applied').textContent = m.appliedAt ? since(m.appliedAt) : '–';
  $('manifest-plan').textContent = m.lastPlan ?? '–';
  $('manifest-errors').replaceChildren(...m.errors.map((e) => Object.assign(document.createElement('li'), { textContent: e })));
}

async function connect() {
  controller?.abort();
  controller = new AbortController();
  badge($('connection'), 'connecting');
  try {
    const res = await fetch('/status/events', { headers: { ...headers(), accept: 'text/event-stream' }, signal: controller.signal });
    if (res.status === 401 || res.status === 403) {
      badge($('connection'), 'offline');
      problem('This gateway needs a key: enter one above.');
      return;
    }
    problem('');
    badge($('connection'), 'live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let end;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const data = buf.slice(0, end).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        buf = buf.slice(end + 2);
        if (data) render(JSON.parse(data));
      }
    }
  } catch (err) {
    if (err.name === 'AbortError') return;
  }
  badge($('connection'), 'offline');
  setTimeout(connect, 1000);
}

$('key').value = key;
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  key = $('key').value.trim();
  sessionStorage.setItem('mcp-gateway-key', key);
  connect();
});
connect();
