/*
 * INnatural Chatbot - Monitoring: the dashboard page served by the health server at /dashboard.
 *
 * Plain browser JavaScript, no build step, no external request: uPlot is served by the same
 * server (/dashboard/uplot.min.js). Every 5 s it reads:
 *   /api/metrics/summary  totals (protected by INNATURAL_METRICS_TOKEN when set)
 *   /api/metrics/history  the in-process time series (same protection)
 *   /api/metrics/slowest  the slowest recent sampled requests, with trace ids (same protection)
 *   /api/health           dependency and system status (open)
 * The token comes from `#token=...` in the address (then moved to sessionStorage and
 * removed from the address) or from sessionStorage; on a 401 a small form asks for it.
 * Every string from the server reaches the DOM through textContent or dataset, never as HTML.
 * Trace ids are plain text unless the address has `?traceUrl=https://...{traceId}...`: only then
 * are they links, so by default nothing on the page points anywhere but this server.
 */
(function () {
  'use strict';

  var REFRESH_MS = 5000;
  var CHART_HEIGHT = 180;
  var TOKEN_KEY = 'innatural-metrics-token';
  var PATHS = {
    summary: '/api/metrics/summary',
    history: '/api/metrics/history',
    health: '/api/health',
    slowest: '/api/metrics/slowest',
  };
  var MB = 1024 * 1024;

  /** One uPlot chart per panel: `key` is a HistoryPoint field, `scale` converts it to the unit shown. */
  var PANELS = [
    { id: 'requests', title: 'Request rate', unit: 'req/s', series: [{ label: 'Requests', key: 'requestsPerSec', color: '#2563eb' }] },
    {
      id: 'latency',
      title: 'HTTP latency',
      unit: 'ms',
      series: [
        { label: 'P50', key: 'p50', scale: 1000, color: '#16a34a' },
        { label: 'P95', key: 'p95', scale: 1000, color: '#d97706' },
        { label: 'P99', key: 'p99', scale: 1000, color: '#dc2626' },
      ],
    },
    { id: 'error-rate', title: 'Error rate (5xx)', unit: '%', series: [{ label: '5xx share', key: 'errorRatio', scale: 100, color: '#dc2626' }] },
    { id: 'sessions', title: 'Active sessions', unit: '', series: [{ label: 'Sessions', key: 'activeSessions', color: '#7c3aed' }] },
    { id: 'messages', title: 'Messages per second', unit: 'msg/s', series: [{ label: 'Messages', key: 'messagesPerSec', color: '#0891b2' }] },
    { id: 'ai-latency', title: 'AI latency (avg)', unit: 'ms', series: [{ label: 'AI avg', key: 'aiAvgSeconds', scale: 1000, color: '#db2777' }] },
    { id: 'ai-tokens', title: 'AI tokens per second', unit: 'tok/s', series: [{ label: 'Tokens', key: 'aiTokensPerSec', color: '#ea580c' }] },
    { id: 'db', title: 'DB query time (avg)', unit: 'ms', series: [{ label: 'Query avg', key: 'dbAvgSeconds', scale: 1000, color: '#0d9488' }] },
    {
      id: 'memory',
      title: 'Memory',
      unit: 'MB',
      series: [
        { label: 'RSS', key: 'rssBytes', scale: 1 / MB, color: '#4f46e5' },
        { label: 'Heap used', key: 'heapUsedBytes', scale: 1 / MB, color: '#65a30d' },
      ],
    },
    { id: 'event-loop', title: 'Event-loop lag (p99)', unit: 'ms', series: [{ label: 'Lag p99', key: 'eventLoopLagP99Seconds', scale: 1000, color: '#9333ea' }] },
  ];

  var SERVICE_ORDER = ['database', 'redis', 'ai'];

  var traceUrl = readTraceUrl();
  var token = readToken();
  var authNeeded = false;
  var ready = false;
  var running = false;
  var again = false;
  var timer = 0;
  var lastSuccess = null;
  /** host element -> { u: uPlot, width: number } */
  var charts = new Map();

  // ---------------------------------------------------------------- helpers

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /** The one row a table shows when it has nothing to list. */
  function emptyRow(tbody, text, columns) {
    var cell = el('td', 'empty', text);
    cell.colSpan = columns;
    tbody.insertRow().appendChild(cell);
  }

  function at(obj, path) {
    var parts = path.split('.');
    var value = obj;
    for (var i = 0; i < parts.length; i++) {
      if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, parts[i])) return undefined;
      value = value[parts[i]];
    }
    return value;
  }

  /** Chart axes and legends: a few significant digits, no exponent. */
  function formatNumber(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    if (a >= 0.01) return v.toFixed(3);
    return v.toPrecision(2);
  }

  function timeOfDay(date) {
    return date.toLocaleTimeString('en-GB', { hour12: false });
  }

  /** HH:MM:SS (local time) for a unix timestamp in seconds; ":SS.mmm" for sub-second axis ticks. */
  function clock(ts, subSecond) {
    var d = new Date(ts * 1000);
    var two = function (n) {
      return (n < 10 ? '0' : '') + n;
    };
    if (subSecond) return ':' + two(d.getSeconds()) + '.' + String(1000 + d.getMilliseconds()).slice(1);
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }

  /** A class name from a status word the server sent (never used as anything else). */
  function statusClass(status) {
    return 's-' + (typeof status === 'string' && /^[a-z_]{1,32}$/.test(status) ? status : 'unknown');
  }

  function pill(status) {
    return el('span', 'pill ' + statusClass(status), typeof status === 'string' ? status.replace(/_/g, ' ') : 'unknown');
  }

  // ---------------------------------------------------------------- trace links

  /** `?traceUrl=` when it is an http(s) address holding {traceId}; anything else is ignored. */
  function readTraceUrl() {
    var template = '';
    try {
      template = new URLSearchParams(location.search).get('traceUrl') || '';
    } catch (_) {
      return '';
    }
    return /^https?:\/\//i.test(template) && template.indexOf('{traceId}') !== -1 ? template : '';
  }

  function traceCell(traceId) {
    var td = el('td', 'trace-id');
    if (!traceUrl || !/^[0-9a-f]{32}$/.test(traceId)) {
      td.textContent = traceId;
      return td;
    }
    var a = el('a', '', traceId);
    a.href = traceUrl.split('{traceId}').join(encodeURIComponent(traceId));
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    td.appendChild(a);
    return td;
  }

  // ---------------------------------------------------------------- token

  function readToken() {
    var fromHash = '';
    try {
      fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token') || '';
    } catch (_) {
      fromHash = '';
    }
    if (fromHash) {
      storeToken(fromHash);
      // Keep the secret out of the address bar, the history and screenshots.
      try {
        history.replaceState(null, '', location.pathname + location.search);
      } catch (_) {
        /* not fatal */
      }
      return fromHash;
    }
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (_) {
      return '';
    }
  }

  function storeToken(value) {
    try {
      sessionStorage.setItem(TOKEN_KEY, value);
    } catch (_) {
      /* storage off: the token lives in memory for this page only */
    }
  }

  function showTokenForm(message) {
    authNeeded = true;
    document.body.dataset.auth = 'required';
    $('token-form').hidden = false;
    var error = $('token-error');
    error.textContent = message || '';
    error.hidden = !message;
  }

  function hideTokenForm() {
    authNeeded = false;
    delete document.body.dataset.auth;
    $('token-form').hidden = true;
  }

  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('token-input').value.trim();
    if (!value) return;
    token = value;
    storeToken(value);
    $('token-input').value = '';
    hideTokenForm();
    setStatus('Token saved, loading…', false);
    refresh();
  });

  // ---------------------------------------------------------------- fetching

  function HttpError(path, status, message) {
    this.path = path;
    this.status = status;
    this.message = message;
  }

  function getJson(path, isProtected) {
    var headers = { Accept: 'application/json' };
    if (isProtected && token) headers.Authorization = 'Bearer ' + token;
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'same-origin' }).then(
      function (res) {
        if (res.status === 401) throw new HttpError(path, 401, 'a token is required');
        return res.json().then(
          function (body) {
            // /api/health answers 503 with the full report when a critical service is down.
            if (res.ok || (path === PATHS.health && res.status === 503 && body && body.services)) return body;
            throw new HttpError(path, res.status, (body && typeof body.message === 'string' && body.message) || 'HTTP ' + res.status);
          },
          function () {
            throw new HttpError(path, res.status, 'HTTP ' + res.status + ', not JSON');
          },
        );
      },
      function () {
        throw new HttpError(path, 0, 'server unreachable');
      },
    );
  }

  // ---------------------------------------------------------------- rendering: summary

  function renderSummary(body) {
    var metrics = (body && body.metrics) || {};
    renderCountTable($('by-role'), metrics.messages && metrics.messages.byRole, 'messages.byRole');
    renderCountTable($('by-language'), metrics.messages && metrics.messages.byLanguage, 'messages.byLanguage');
    renderErrorsByType(metrics.errors && metrics.errors.byType);
    // Shown exactly as the endpoint gives them: the test compares these with a GET of it.
    var nodes = document.querySelectorAll('[data-summary]');
    for (var i = 0; i < nodes.length; i++) {
      var value = at(metrics, nodes[i].dataset.summary);
      nodes[i].textContent = value === undefined || value === null || typeof value === 'object' ? '–' : String(value);
    }
  }

  function sortedEntries(counts) {
    if (!counts || typeof counts !== 'object') return [];
    return Object.keys(counts)
      .map(function (k) {
        return [k, counts[k]];
      })
      .sort(function (a, b) {
        return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
      });
  }

  function renderCountTable(table, counts, path) {
    var body = table.tBodies[0];
    clear(body);
    var entries = sortedEntries(counts);
    if (entries.length === 0) {
      emptyRow(body, 'No messages yet', 2);
      return;
    }
    entries.forEach(function (entry) {
      var tr = body.insertRow();
      tr.appendChild(el('td', '', entry[0] === '' ? '(none)' : entry[0]));
      var td = el('td', 'num');
      if (entry[0].indexOf('.') === -1 && entry[0] !== '') td.dataset.summary = path + '.' + entry[0];
      tr.appendChild(td);
    });
  }

  function renderErrorsByType(byType) {
    var dl = $('errors-by-type');
    clear(dl);
    sortedEntries(byType)
      .slice(0, 6)
      .forEach(function (entry) {
        dl.appendChild(el('dt', '', entry[0] === '' ? '(none)' : entry[0]));
        var dd = el('dd');
        if (entry[0].indexOf('.') === -1 && entry[0] !== '') dd.dataset.summary = 'errors.byType.' + entry[0];
        dl.appendChild(dd);
      });
  }

  // ---------------------------------------------------------------- rendering: slowest requests

  function renderSlowest(body) {
    var tbody = $('slowest').tBodies[0];
    clear(tbody);
    var requests = (body && Array.isArray(body.requests) && body.requests) || [];
    if (requests.length === 0) {
      emptyRow(tbody, 'No sampled request in the last 15 minutes (exemplars come from traced requests).', 5);
      return;
    }
    requests.forEach(function (r) {
      var tr = tbody.insertRow();
      tr.dataset.traceId = String(r.traceId);
      tr.dataset.spanId = String(r.spanId);
      tr.title = String(r.timestamp);
      tr.appendChild(el('td', '', r.route));
      tr.appendChild(el('td', '', r.method));
      tr.appendChild(el('td', 'num', r.durationMs + ' ms'));
      tr.appendChild(el('td', 'num', r.status));
      tr.appendChild(traceCell(String(r.traceId)));
    });
  }

  // ---------------------------------------------------------------- rendering: charts

  function buildPanels() {
    var container = $('charts');
    PANELS.forEach(function (panel) {
      var box = el('div', 'panel chart-panel');
      var title = el('h3', 'table-title', panel.title);
      if (panel.unit) title.appendChild(el('span', 'unit', panel.unit));
      var host = el('div', 'chart-host');
      host.dataset.chart = panel.id;
      host.dataset.color = panel.series[0].color;
      host.dataset.points = '0';
      box.appendChild(title);
      box.appendChild(host);
      container.appendChild(box);
      panel.host = host;
    });
  }

  var resizer =
    typeof ResizeObserver === 'function'
      ? new ResizeObserver(function (entries) {
          // Resize on the next frame, outside the observer callback: no "ResizeObserver loop" error.
          requestAnimationFrame(function () {
            entries.forEach(function (entry) {
              var chart = charts.get(entry.target);
              var width = Math.floor(entry.target.clientWidth);
              if (chart && width > 0 && width !== chart.width) {
                chart.width = width;
                chart.u.setSize({ width: width, height: CHART_HEIGHT });
              }
            });
          });
        })
      : null;

  function chartOptions(panel, width) {
    var axis = {
      stroke: '#5f6b7a',
      font: '11px system-ui, sans-serif',
      grid: { stroke: '#e9edf1', width: 1 },
      ticks: { stroke: '#dde3ea', width: 1 },
    };
    var unit = panel.unit ? ' ' + panel.unit : '';
    return {
      width: width,
      height: CHART_HEIGHT,
      scales: {
        x: { time: true },
        y: {
          range: function (_u, _min, max) {
            return [0, max > 0 ? max * 1.15 : 1];
          },
        },
      },
      axes: [
        Object.assign({}, axis, {
          space: 70,
          values: function (_u, splits, _axis, _space, incr) {
            return splits.map(function (ts) {
              return clock(ts, incr < 1);
            });
          },
        }),
        Object.assign({}, axis, { size: 56 }),
      ],
      series: [
        {
          value: function (_u, ts) {
            return ts === null || ts === undefined ? '–' : clock(ts, false);
          },
        },
      ].concat(
        panel.series.map(function (s) {
          return {
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: panel.series.length === 1 ? s.color + '1f' : undefined,
            spanGaps: true,
            value: function (_u, v) {
              return v === null || v === undefined ? '–' : formatNumber(v) + unit;
            },
          };
        }),
      ),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // Away from the cursor, the legend shows the latest values instead of dashes.
        setCursor: [
          function (u) {
            if (u.cursor.idx === null || u.cursor.idx === undefined) showLatest(u);
          },
        ],
      },
    };
  }

  function showLatest(u) {
    var n = u.data[0].length;
    if (n > 0) u.setLegend({ idx: n - 1 });
  }

  function renderHistory(body) {
    if (typeof uPlot !== 'function') throw new Error('the chart library (/dashboard/uplot.min.js) did not load');
    var points = (body && Array.isArray(body.points) && body.points) || [];
    var xs = points.map(function (p) {
      return p.t / 1000;
    });
    PANELS.forEach(function (panel) {
      var data = [xs].concat(
        panel.series.map(function (s) {
          var scale = s.scale || 1;
          return points.map(function (p) {
            var v = p[s.key];
            return typeof v === 'number' && isFinite(v) ? v * scale : null;
          });
        }),
      );
      var host = panel.host;
      var chart = charts.get(host);
      if (!chart) {
        var width = Math.max(200, Math.floor(host.clientWidth) || 400);
        chart = { u: new uPlot(chartOptions(panel, width), data, host), width: width };
        charts.set(host, chart);
        if (resizer) resizer.observe(host);
      } else {
        chart.u.setData(data);
      }
      if (chart.u.cursor.idx === null || chart.u.cursor.idx === undefined) showLatest(chart.u);
      host.dataset.points = String(points.length);
    });
  }

  // ---------------------------------------------------------------- rendering: health

  function renderHealth(report) {
    var overall = $('overall');
    overall.className = 'pill ' + statusClass(report.status);
    overall.textContent = typeof report.status === 'string' ? report.status : 'unknown';
    $('version').textContent = report.version === undefined ? '–' : String(report.version);
    $('environment').textContent = report.environment === undefined ? '–' : String(report.environment);
    $('uptime').textContent = (report.uptime && report.uptime.formatted) || '–';
    renderServices(report.services || {});
    renderSystem(report.system || {});
  }

  function detailsOf(service) {
    if (typeof service.message === 'string' && service.message) return service.message;
    var parts = [];
    Object.keys(service).forEach(function (key) {
      if (key === 'status' || key === 'responseTime' || key === 'message') return;
      var value = service[key];
      parts.push(key + ': ' + (typeof value === 'object' ? JSON.stringify(value) : String(value)));
    });
    var text = parts.join(', ');
    return text.length > 200 ? text.slice(0, 199) + '…' : text;
  }

  function renderServices(services) {
    var body = $('services').tBodies[0];
    clear(body);
    var names = Object.keys(services).sort(function (a, b) {
      var ia = SERVICE_ORDER.indexOf(a);
      var ib = SERVICE_ORDER.indexOf(b);
      if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    if (names.length === 0) {
      emptyRow(body, 'No dependency checks', 4);
      return;
    }
    names.forEach(function (name) {
      var service = services[name] || {};
      var tr = body.insertRow();
      tr.dataset.service = name;
      tr.appendChild(el('td', '', name));
      var status = el('td');
      status.appendChild(pill(service.status));
      tr.appendChild(status);
      tr.appendChild(el('td', 'num', typeof service.responseTime === 'number' ? service.responseTime + ' ms' : '–'));
      tr.appendChild(el('td', '', detailsOf(service)));
    });
  }

  function renderSystem(system) {
    var body = $('system').tBodies[0];
    clear(body);
    var rows = [];
    var memory = system.memory;
    if (memory) {
      var heap = memory.heap || {};
      rows.push(['Memory', memory.status, 'RSS ' + memory.rss + ' · heap ' + heap.used + ' / ' + heap.total + ' (' + heap.usage + ')']);
    }
    var cpu = system.cpu;
    if (cpu) rows.push(['CPU', cpu.status, cpu.total + ' (user ' + cpu.user + ', system ' + cpu.system + ')']);
    var disk = system.disk;
    if (disk) rows.push(['Disk', disk.status, disk.message ? disk.message : disk.usage + ' used of ' + disk.total + ', ' + disk.free + ' free']);
    if (system.nodejs) rows.push(['Node.js', null, system.nodejs + ' · ' + system.platform + '/' + system.arch]);
    rows.forEach(function (row) {
      var tr = body.insertRow();
      tr.appendChild(el('td', '', row[0]));
      var status = el('td');
      if (row[1]) status.appendChild(pill(row[1]));
      tr.appendChild(status);
      tr.appendChild(el('td', '', row[2]));
    });
  }

  // ---------------------------------------------------------------- refresh loop

  function setStatus(text, isError) {
    var status = $('status');
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function describe(reason) {
    if (reason instanceof HttpError) return reason.path + ': ' + reason.message;
    return 'page error: ' + (reason && reason.message ? reason.message : String(reason));
  }

  function refreshOnce() {
    var jobs = [getJson(PATHS.health, false).then(renderHealth)];
    if (!authNeeded) {
      jobs.push(getJson(PATHS.summary, true).then(renderSummary));
      jobs.push(getJson(PATHS.history, true).then(renderHistory));
      jobs.push(getJson(PATHS.slowest, true).then(renderSlowest));
    }
    return Promise.allSettled(jobs).then(function (results) {
      var failures = results
        .filter(function (r) {
          return r.status === 'rejected';
        })
        .map(function (r) {
          return r.reason;
        });
      var unauthorized = failures.some(function (f) {
        return f instanceof HttpError && f.status === 401;
      });
      var others = failures.filter(function (f) {
        return !(f instanceof HttpError && f.status === 401);
      });
      if (unauthorized) showTokenForm(token ? 'The token was refused: check INNATURAL_METRICS_TOKEN.' : '');
      var now = new Date();
      if (others.length > 0) {
        var stale = lastSuccess ? ' Showing data from ' + timeOfDay(lastSuccess) + '.' : '';
        setStatus('Could not refresh (' + others.map(describe).join('; ') + ').' + stale + ' Retrying every 5 s.', true);
      } else if (authNeeded) {
        setStatus('Metrics need a token. Dependency status below is still refreshed every 5 s.', false);
      } else {
        lastSuccess = now;
        setStatus('Updated ' + timeOfDay(now) + ' · refreshes every 5 s', false);
        if (!ready) {
          ready = true;
          // After uPlot has painted: the flag means "data is on screen".
          requestAnimationFrame(function () {
            document.body.dataset.ready = 'true';
          });
        }
      }
    });
  }

  function refresh() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    clearTimeout(timer);
    refreshOnce()
      .catch(function (err) {
        setStatus('Could not refresh (' + describe(err) + ').', true);
      })
      .then(function () {
        running = false;
        if (again) {
          again = false;
          refresh();
          return;
        }
        timer = setTimeout(refresh, REFRESH_MS);
      });
  }

  buildPanels();
  refresh();
})();
