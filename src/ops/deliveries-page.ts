/**
 * The Deliveries page (/deliveries): static HTML, one script and one stylesheet, served by the
 * ops server as they are (no build step). The script reads /api/v1/notifications and puts
 * every value into the page with textContent, never as markup.
 */

export const DELIVERIES_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>herald · Deliveries</title>
<link rel="stylesheet" href="/deliveries/style.css">
<script src="/deliveries/app.js" defer></script>
</head>
<body>
<header>
  <h1>herald · Deliveries</h1>
  <nav><a href="/dashboard/">Queues (Bull Board)</a></nav>
</header>
<form id="filters" autocomplete="off">
  <label>Instance <input name="instance" maxlength="200"></label>
  <label>User <input name="user" maxlength="200"></label>
  <label>State
    <select name="state">
      <option value="">any</option>
      <option value="pending">pending</option>
      <option value="retrying">retrying</option>
      <option value="sent">sent</option>
      <option value="canceled">canceled</option>
    </select>
  </label>
  <label>Since <input name="since" placeholder="e.g. 1h" maxlength="20" size="6"></label>
  <label>Limit <input name="limit" type="number" min="1" max="500" value="50"></label>
  <button type="submit">Show</button>
</form>
<p id="status" role="status"></p>
<table id="deliveries">
  <thead><tr>
    <th>Requested</th><th>State</th><th>Attempts</th><th>Result</th><th>Error</th><th>Type</th>
    <th>Channel</th><th>Provider</th><th>Recipient</th><th>Source</th><th>Notification</th><th>Instance</th><th>User</th>
  </tr></thead>
  <tbody id="rows"></tbody>
</table>
<section id="detail" hidden>
  <h2 id="detail-title"></h2>
  <dl id="detail-fields"></dl>
  <ol id="timeline"></ol>
</section>
</body>
</html>
`;

export const DELIVERIES_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
header { display: flex; align-items: baseline; gap: 2rem; }
h1 { font-size: 1.3rem; }
form { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; margin: .5rem 0; }
label { display: flex; flex-direction: column; font-size: .8rem; color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; white-space: nowrap; }
tr.state-sent td.state { color: #176f2c; }
tr.state-canceled td.state { color: #a61b1b; }
tr.state-retrying td.state { color: #a15c00; }
td button { font: inherit; background: none; border: none; color: #0645ad; cursor: pointer; padding: 0; text-decoration: underline; }
#detail { margin-top: 1.5rem; padding: 1rem; border: 1px solid #ccc; border-radius: 4px; }
#detail dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
#detail dt { color: #555; }
#timeline li { margin: .2rem 0; }
`;

export const DELIVERIES_JS = `'use strict';
(function () {
  var API = '/api/v1/notifications';
  var FIELDS = ['instance', 'user', 'state', 'since', 'limit'];
  var form = document.getElementById('filters');
  var rows = document.getElementById('rows');
  var status = document.getElementById('status');
  var detail = document.getElementById('detail');

  function text(v) { return v === null || v === undefined || v === '' ? '-' : String(v); }
  function td(tr, value, cls) {
    var cell = document.createElement('td');
    cell.textContent = text(value);
    if (cls) cell.className = cls;
    tr.appendChild(cell);
    return cell;
  }
  function query() {
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var v = form.elements[name].value.trim();
      if (v !== '') params.set(name, v);
    });
    return params;
  }
  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, status: res.status, body: body }; });
    });
  }

  function row(d) {
    var tr = document.createElement('tr');
    tr.className = 'state-' + d.state;
    tr.dataset.id = d.id;
    td(tr, d.requestedAt);
    td(tr, d.state, 'state');
    td(tr, d.attempts);
    td(tr, d.resultClass);
    td(tr, d.errorCode);
    td(tr, d.messageType);
    td(tr, d.channel);
    td(tr, d.providerKind);
    td(tr, d.recipient);
    td(tr, d.source);
    var idCell = td(tr, '');
    var open = document.createElement('button');
    open.type = 'button';
    open.textContent = d.id;
    open.addEventListener('click', function () { show(d); });
    idCell.replaceChildren(open);
    td(tr, d.instanceId);
    td(tr, d.userId);
    return tr;
  }

  function load() {
    var params = query();
    status.textContent = 'loading…';
    history.replaceState(null, '', '?' + params.toString());
    return getJson(API + '?' + params.toString()).then(function (r) {
      if (!r.ok) {
        rows.replaceChildren();
        status.textContent = 'error: ' + text(r.body && r.body.error);
        return;
      }
      rows.replaceChildren.apply(rows, r.body.notifications.map(row));
      status.textContent = r.body.notifications.length + ' notifications, newest first';
    }, function () { status.textContent = 'error: the request failed'; });
  }

  function field(dl, name, value) {
    var dt = document.createElement('dt');
    dt.textContent = name;
    var dd = document.createElement('dd');
    dd.textContent = text(value);
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function show(d) {
    var params = new URLSearchParams({ source: d.source, instance: d.instanceId });
    return getJson(API + '/' + encodeURIComponent(d.id) + '?' + params.toString()).then(function (r) {
      if (!r.ok) { status.textContent = 'error: ' + text(r.body && r.body.error); return; }
      var n = r.body;
      document.getElementById('detail-title').textContent = 'Notification ' + n.id + ' (' + n.source + ')';
      var dl = document.getElementById('detail-fields');
      dl.replaceChildren();
      field(dl, 'state', n.state);
      field(dl, 'instance', n.instanceId);
      field(dl, 'org', n.orgId);
      field(dl, 'user', n.userId);
      field(dl, 'message type', n.messageType);
      field(dl, 'channel', n.channel);
      field(dl, 'provider', n.providerKind);
      field(dl, 'recipient', n.recipient);
      field(dl, 'sends', n.attempts);
      field(dl, 'result', n.resultClass);
      field(dl, 'error', n.errorCode);
      field(dl, 'reason', n.reason);
      field(dl, 'provider message id', n.providerMessageId);
      field(dl, 'requested', n.requestedAt);
      field(dl, 'finished', n.finishedAt);
      field(dl, 'latency (ms)', n.latencyMs);
      var ol = document.getElementById('timeline');
      ol.replaceChildren();
      var req = document.createElement('li');
      req.textContent = n.requestedAt + ' requested';
      ol.appendChild(req);
      n.timeline.forEach(function (a) {
        var li = document.createElement('li');
        li.className = 'attempt';
        li.textContent = a.startedAt + ' attempt ' + a.attempt + ': ' + text(n.channel) + ' via ' + a.providerKind + ' → ' + a.resultClass +
          (a.errorCode ? ' (' + a.errorCode + ')' : '');
        ol.appendChild(li);
      });
      var end = document.createElement('li');
      end.textContent = text(n.finishedAt || n.updatedAt) + ' ' + n.state;
      ol.appendChild(end);
      detail.hidden = false;
    });
  }

  var initial = new URLSearchParams(location.search);
  FIELDS.forEach(function (name) {
    var v = initial.get(name);
    if (v !== null) form.elements[name].value = v;
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); load(); });
  form.elements.state.addEventListener('change', function () { load(); });
  load();
})();
`;
