// coffer control panel: progressive enhancement only. Every page works
// without this script; with it, the JSON value is checked as you type, the
// value of a secret opens in a side panel, copy and download buttons work,
// and the activation of a domain shows its progress.
//
// The script never uses innerHTML: everything it shows is set with
// textContent, so nothing it displays can run as markup.
(function () {
  'use strict';

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function el(tag, props, children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children || []) e.append(c);
    return e;
  }

  // Controls that need the script are hidden in the markup and shown
  // here; their no-script fallbacks are hidden instead.
  function enhance() {
    $$('[data-js-hide]').forEach((e) => { e.hidden = true; });
    $$('[data-add-row],[data-download],[data-copy-from],[data-load-current]').forEach((e) => { e.hidden = false; });
  }

  // ---- copy to the clipboard ----------------------------------------
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      const t = el('textarea', { value: text, readOnly: true });
      t.className = 'visually-hidden';
      document.body.append(t);
      t.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
      t.remove();
      return ok;
    }
  }

  function copyButton(label, getText, name) {
    const b = el('button', { type: 'button', className: 'btn btn-small', textContent: label });
    if (name) b.setAttribute('aria-label', 'Copy the value of ' + name);
    b.addEventListener('click', async () => {
      const ok = await copyText(getText());
      b.textContent = ok ? 'Copied' : 'Copy failed';
      b.dataset.copied = ok ? 'true' : 'false';
      setTimeout(() => { b.textContent = label; delete b.dataset.copied; }, 1500);
    });
    return b;
  }

  function initCopyFrom() {
    $$('[data-copy-from]').forEach((b) => {
      b.addEventListener('click', async () => {
        const src = document.getElementById(b.dataset.copyFrom);
        const ok = await copyText(src ? (src.value !== undefined ? src.value : src.textContent) : '');
        const label = b.textContent;
        b.textContent = ok ? 'Copied' : 'Copy failed';
        setTimeout(() => { b.textContent = label; }, 1500);
      });
    });
  }

  // ---- downloads of text shown once (certificates, keys) --------------
  function initDownloads() {
    $$('[data-download]').forEach((b) => {
      b.addEventListener('click', () => {
        const src = document.getElementById(b.dataset.download);
        const blob = new Blob([src ? src.value : ''], { type: 'application/x-pem-file' });
        const url = URL.createObjectURL(blob);
        const a = el('a', { href: url, download: b.dataset.filename || 'download.pem' });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      });
    });
  }

  // ---- the JSON value, checked as you type ----------------------------
  function formatBytes(n) {
    return n < 1024 ? n + ' B' : (n / 1024).toFixed(1) + ' KiB';
  }

  function jsonProblem(err) {
    const m = /line (\d+) column (\d+)/.exec(err && err.message ? err.message : '');
    if (m) return 'Not valid JSON near line ' + m[1] + ', column ' + m[2] + '.';
    const p = /position (\d+)/.exec(err && err.message ? err.message : '');
    if (p) return 'Not valid JSON near character ' + (Number(p[1]) + 1) + '.';
    return 'Not valid JSON: check the quotes, commas and braces.';
  }

  function checkJSON(area) {
    const box = area.closest('.field') || area.parentElement;
    const status = $('[data-json-status]', box);
    const meter = $('[data-json-bar]', box);
    const max = Number(area.dataset.max) || 65536;
    let ok = false;
    let msg;
    let size = 0;
    const text = area.value;
    if (text.trim() === '') {
      msg = 'Enter a JSON object, such as {"login": "admin"}.';
    } else {
      try {
        const v = JSON.parse(text);
        if (v === null || typeof v !== 'object' || Array.isArray(v)) {
          msg = 'The value must be a JSON object of key-value pairs, between { and }.';
        } else {
          size = new TextEncoder().encode(JSON.stringify(v)).length;
          const keys = Object.keys(v);
          if (size > max) {
            msg = 'Too large: ' + formatBytes(size) + ' of compact JSON; the limit is 64 KiB.';
          } else if (keys.includes('')) {
            msg = 'A key must not be empty.';
          } else {
            ok = true;
            msg = 'Valid JSON object · ' + keys.length + (keys.length === 1 ? ' key' : ' keys') +
              ' · ' + formatBytes(size) + ' of 64 KiB';
          }
        }
      } catch (e) {
        msg = jsonProblem(e);
      }
    }
    area.setCustomValidity(ok ? '' : msg);
    area.setAttribute('aria-invalid', ok ? 'false' : 'true');
    if (status) {
      status.textContent = msg;
      status.classList.toggle('ok', ok);
      status.classList.toggle('bad', !ok);
    }
    if (meter) {
      meter.style.width = Math.min(100, (size / max) * 100) + '%';
      meter.parentElement.classList.toggle('over', size > max);
    }
  }

  function initJSONEditors() {
    $$('[data-json-editor]').forEach((area) => {
      area.addEventListener('input', () => checkJSON(area));
      checkJSON(area);
    });
  }

  // ---- the key/value row editor, beside the raw JSON --------------------
  // The textarea stays the field the form sends; the rows write into it
  // as they change and are rebuilt from it when shown. Strings are edited
  // as text; any other JSON value as JSON, marked so.
  function initKVEditors() {
    $$('[data-kv-editor]').forEach((box) => {
      const field = box.closest('.field');
      const area = $('[data-json-editor]', field);
      const rows = $('[data-kv-rows]', box);
      const sw = $('[data-editor-switch]', field);
      const status = $('[data-json-status]', field);
      let mode = 'json';
      let syncing = false;
      let lastRows = false; // the last change was made in the rows

      function rowError(row, msg) {
        const e = $('.kv-error', row);
        e.textContent = msg;
        e.hidden = msg === '';
        $$('input, textarea', row).forEach((i) => i.setAttribute('aria-invalid', msg ? 'true' : 'false'));
      }

      function name(row) {
        const k = $('.kv-key', row).value.trim();
        return k ? '“' + k + '”' : 'number ' + (rows.children.length ? [...rows.children].indexOf(row) + 1 : 1);
      }

      function label(row) {
        const n = name(row);
        $('.kv-key', row).setAttribute('aria-label', 'Key of the pair ' + n);
        $('.kv-val', row).setAttribute('aria-label', 'Value of the pair ' + n);
        $('.kv-remove', row).setAttribute('aria-label', 'Remove the pair ' + n);
      }

      // toJSON validates every row and writes the value; it returns the
      // number of rows in error.
      function toJSON() {
        const obj = {};
        const seen = new Map();
        let bad = 0;
        for (const row of rows.children) {
          const k = $('.kv-key', row).value;
          const vtext = $('.kv-val', row).value;
          let msg = '';
          let v = vtext;
          if (k === '' && vtext === '') { rowError(row, ''); continue; }
          if (k.trim() === '') msg = 'Give this value a key.';
          else if (seen.has(k)) msg = 'This key is given twice.';
          else if (row.dataset.raw === 'true') {
            try { v = JSON.parse(vtext); } catch (_) { msg = 'Not valid JSON: write a string in the JSON view, or a number, true, false, null, an array or an object.'; }
          }
          rowError(row, msg);
          if (msg) { bad++; continue; }
          seen.set(k, true);
          obj[k] = v;
        }
        syncing = true;
        area.value = JSON.stringify(obj, null, 2);
        checkJSON(area);
        if (bad) {
          const m = bad === 1 ? 'One pair needs a correction.' : bad + ' pairs need a correction.';
          area.setCustomValidity(m);
          if (status) { status.textContent = m; status.classList.add('bad'); status.classList.remove('ok'); }
        }
        syncing = false;
        return bad;
      }

      function addRow(k, v, raw) {
        const key = el('input', { className: 'kv-key', value: k, placeholder: 'Key', autocomplete: 'off', spellcheck: false });
        const val = el('textarea', { className: 'kv-val code', value: v, rows: 1, placeholder: raw ? 'JSON value' : 'Value', spellcheck: false });
        const rm = el('button', { type: 'button', className: 'btn btn-small btn-ghost-dark kv-remove', textContent: 'Remove' });
        const err = el('p', { className: 'kv-error field-error', hidden: true });
        const kids = [key, val, rm, err];
        if (raw) kids.splice(2, 0, el('span', { className: 'tag', textContent: 'JSON', title: 'This value is JSON, not text' }));
        const row = el('div', { className: 'kv-row' }, kids);
        if (raw) row.dataset.raw = 'true';
        key.addEventListener('input', () => { label(row); lastRows = true; toJSON(); });
        val.addEventListener('input', () => { lastRows = true; toJSON(); });
        rm.addEventListener('click', () => {
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          if (!rows.children.length) addRow('', '', false);
          toJSON();
          $('.kv-key', next && next.isConnected ? next : rows.lastElementChild).focus();
        });
        rows.append(row);
        label(row);
        return row;
      }

      // fromJSON rebuilds the rows from the textarea; false when it does
      // not hold an object.
      function fromJSON() {
        let v;
        try { v = JSON.parse(area.value); } catch (_) { return false; }
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
        rows.replaceChildren();
        for (const [k, x] of Object.entries(v)) {
          if (typeof x === 'string') addRow(k, x, false);
          else addRow(k, JSON.stringify(x), true);
        }
        if (!rows.children.length) addRow('', '', false);
        return true;
      }

      // Modes: both side by side (the default), the rows only, the JSON
      // only. The rows need a JSON object to start from.
      function setMode(m) {
        if (m !== 'json' && !fromJSON()) {
          if (status) status.textContent = 'Correct the JSON before switching to key/value pairs.';
          m = 'json';
        }
        mode = m;
        box.hidden = m === 'json';
        area.hidden = m === 'rows';
        field.classList.toggle('editor-both', m === 'both');
        $$('[data-editor-mode]', sw).forEach((b) => b.setAttribute('aria-pressed', b.dataset.editorMode === m ? 'true' : 'false'));
        if (m === 'rows') toJSON();
      }

      sw.hidden = false;
      $$('[data-editor-mode]', sw).forEach((b) => b.addEventListener('click', () => setMode(b.dataset.editorMode)));
      $('[data-kv-add]', box).addEventListener('click', () => { $('.kv-key', addRow('', '', false)).focus(); });
      area.addEventListener('input', () => {
        if (syncing || mode === 'json') return;
        lastRows = false;
        fromJSON(); // a JSON being typed that is not an object yet leaves the rows as they were
      });
      area.form.addEventListener('submit', (e) => {
        if ((mode === 'rows' || lastRows) && toJSON() > 0) {
          e.preventDefault();
          const bad = $('.kv-row [aria-invalid="true"]', rows);
          if (bad) bad.focus();
        }
      });
      setMode('both');
    });
  }

  // ---- custom-metadata rows -------------------------------------------
  function initMetaRows() {
    $$('[data-add-row]').forEach((b) => {
      b.addEventListener('click', () => {
        const rows = $('[data-meta-rows]', b.closest('fieldset'));
        const key = el('input', { name: 'meta_key', placeholder: 'Key' });
        key.setAttribute('aria-label', 'Key');
        const val = el('input', { name: 'meta_value', placeholder: 'Value' });
        val.setAttribute('aria-label', 'Value');
        rows.append(el('div', { className: 'meta-row' }, [key, val]));
        key.focus();
      });
    });
  }

  // ---- forms that submit themselves -----------------------------------
  function initAutosubmit() {
    $$('select[data-autosubmit]').forEach((s) => {
      s.addEventListener('change', () => {
        if (s.form.requestSubmit) s.form.requestSubmit(); else s.form.submit();
      });
    });
  }

  // ---- filtering the rows of the current page as you type -------------
  function initRowFilter() {
    $$('input[data-filter-rows]').forEach((input) => {
      const body = document.getElementById(input.dataset.filterRows);
      if (!body) return;
      const empty = $('[data-filter-empty]');
      input.addEventListener('input', () => {
        const q = input.value.trim().toLowerCase();
        let shown = 0;
        for (const tr of body.rows) {
          const name = $('a.name', tr) || tr.cells[0];
          const match = q === '' || name.textContent.toLowerCase().includes(q);
          tr.hidden = !match;
          if (match) shown++;
        }
        if (empty) empty.hidden = shown > 0;
      });
    });
  }

  // ---- posting a form for JSON ----------------------------------------
  async function postJSON(url, fields) {
    const body = new URLSearchParams(fields);
    const res = await fetch(url, {
      method: 'POST', body, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' },
    });
    let data = {};
    try { data = await res.json(); } catch (_) { data = {}; }
    if (!res.ok) throw new Error(data.error || 'The request failed (' + res.status + ').');
    return data;
  }

  function csrfToken() {
    const i = $('input[name="csrf"]');
    return i ? i.value : '';
  }

  // ---- saving text as a file, from memory (never through a URL the
  // server sees: the value stays out of history, logs and caches) -------
  function saveFile(text, name, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // dotenv writes entries as KEY="value" lines, escaping what a shell or
  // a dotenv parser would read otherwise.
  function dotenv(entries) {
    return entries.map((e) => e.key + '="' + e.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')
      .replace(/\$/g, '\\$').replace(/\n/g, '\\n') + '"').join('\n') + '\n';
  }

  const MASK = '••••••••';

  // ---- the value side panel -------------------------------------------
  // Values are masked until revealed, one key or all at once; copying
  // never needs them shown.
  function initValuePanel() {
    const panel = $('#value-panel');
    if (!panel) return;
    const backdrop = $('[data-panel-backdrop]');
    const select = $('[data-value-version]', panel);
    const message = $('[data-value-message]', panel);
    const entries = $('[data-value-entries]', panel);
    const tools = $('[data-value-tools]', panel);
    const revealAll = $('[data-reveal-all]', panel);
    let opener = null;
    let seq = 0;
    let current = null; // {entries, json, version} while shown

    function clear() {
      entries.replaceChildren();
      message.textContent = '';
      current = null;
      if (tools) tools.hidden = true;
      if (revealAll) { revealAll.setAttribute('aria-pressed', 'false'); revealAll.textContent = 'Reveal all'; }
    }

    function setShown(row, shown) {
      const code = $('code', row);
      code.textContent = shown ? row._value : MASK;
      code.classList.toggle('masked', !shown);
      const b = $('[data-reveal]', row);
      b.setAttribute('aria-pressed', shown ? 'true' : 'false');
      b.textContent = shown ? 'Hide' : 'Reveal';
    }

    async function load(version) {
      const mine = ++seq;
      clear();
      message.textContent = 'Reading the value…';
      try {
        const data = await postJSON(panel.dataset.valueUrl, {
          csrf: panel.dataset.csrf, path: panel.dataset.path, version: String(version), as: 'json',
        });
        if (mine !== seq || panel.hidden) return; // closed or superseded meanwhile
        if (data.version) select.value = String(data.version);
        message.textContent = data.message || '';
        const list = data.entries || [];
        for (const e of list) {
          const value = e.value;
          const reveal = el('button', { type: 'button', className: 'btn btn-small btn-ghost-dark', textContent: 'Reveal' });
          reveal.dataset.reveal = '';
          reveal.setAttribute('aria-label', 'Reveal the value of ' + e.key);
          const row = el('div', { className: 'kv' }, [
            el('div', { className: 'k', textContent: e.key }),
            el('div', { className: 'v' }, [el('code', { textContent: MASK })]),
            el('div', { className: 'kv-actions' }, [reveal, copyButton('Copy', () => value, e.key)]),
          ]);
          row._value = value;
          reveal.addEventListener('click', () => setShown(row, reveal.getAttribute('aria-pressed') !== 'true'));
          setShown(row, false);
          entries.append(row);
        }
        if (list.length > 0 && data.json !== undefined) {
          current = { entries: list, json: data.json, version: data.version };
          if (tools) tools.hidden = false;
        }
      } catch (err) {
        if (mine === seq) message.textContent = err.message;
      }
    }

    if (revealAll) {
      revealAll.addEventListener('click', () => {
        const show = revealAll.getAttribute('aria-pressed') !== 'true';
        revealAll.setAttribute('aria-pressed', show ? 'true' : 'false');
        revealAll.textContent = show ? 'Hide all' : 'Reveal all';
        $$('.kv', entries).forEach((row) => setShown(row, show));
      });
    }
    const copyAll = $('[data-copy-json]', panel);
    if (copyAll) {
      copyAll.addEventListener('click', async () => {
        if (!current) return;
        const ok = await copyText(current.json);
        const label = 'Copy as JSON';
        copyAll.textContent = ok ? 'Copied' : 'Copy failed';
        setTimeout(() => { copyAll.textContent = label; }, 1500);
      });
    }
    const base = () => (panel.dataset.path.replace(/[^A-Za-z0-9._-]+/g, '-') || 'secret') + '-v' + (current ? current.version : '');
    const dlJSON = $('[data-download-json]', panel);
    if (dlJSON) dlJSON.addEventListener('click', () => { if (current) saveFile(current.json + '\n', base() + '.json', 'application/json'); });
    const dlEnv = $('[data-download-env]', panel);
    if (dlEnv) dlEnv.addEventListener('click', () => { if (current) saveFile(dotenv(current.entries), base() + '.env', 'text/plain'); });

    function open(version, trigger) {
      opener = trigger || null;
      panel.hidden = false;
      if (backdrop) backdrop.hidden = false;
      panel.focus();
      load(version);
    }

    function close() {
      seq++;
      clear();
      panel.hidden = true;
      if (backdrop) backdrop.hidden = true;
      if (opener) opener.focus();
      opener = null;
    }

    $$('form[data-value-form]').forEach((f) => {
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        open(f.elements.version.value || '0', e.submitter || $('button', f));
      });
    });
    select.addEventListener('change', () => load(select.value));
    $('[data-panel-close]', panel).addEventListener('click', close);
    if (backdrop) backdrop.addEventListener('click', close);
    document.addEventListener('keydown', (e) => {
      if (panel.hidden) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        close();
      } else if (e.key === 'Tab') {
        // Keep the focus in the panel while it is open.
        const items = $$('button, select, [href], input, [tabindex]:not([tabindex="-1"])', panel)
          .filter((x) => !x.disabled && x.offsetParent !== null);
        if (items.length === 0) return;
        const first = items[0];
        const last = items[items.length - 1];
        if (e.shiftKey && (document.activeElement === first || document.activeElement === panel)) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && document.activeElement === last) {
          e.preventDefault();
          first.focus();
        }
      }
    });
    // Do not keep a value in a page the browser may cache.
    window.addEventListener('pagehide', () => { if (!panel.hidden) close(); });
  }

  // ---- starting a new version from the current value ------------------
  // By default (data-auto), the form starts from the current value, read
  // by POST as the side panel reads it.
  function initLoadCurrent() {
    $$('[data-load-current]').forEach((b) => {
      if (b.dataset.auto === 'true') setTimeout(() => b.click(), 0);
      b.addEventListener('click', async () => {
        const area = $('[data-json-editor]', b.form);
        try {
          const data = await postJSON(b.dataset.url, {
            csrf: csrfToken(), path: b.dataset.path, version: '0', as: 'json',
          });
          if (data.json === undefined) throw new Error(data.message || 'The current value cannot be read.');
          area.value = data.json;
          area.dispatchEvent(new Event('input'));
          area.focus();
        } catch (err) {
          const status = $('[data-json-status]', b.form);
          if (status) status.textContent = err.message;
        }
      });
    });
  }

  // ---- activation progress --------------------------------------------
  function initActivation() {
    const box = $('[data-poll-state]');
    if (!box || box.dataset.ready === 'true') return;
    const text = $('[data-state-text]', box);
    const bar = $('[data-progress]', box);
    const next = $('[data-continue]', box);
    async function poll() {
      try {
        const res = await fetch(box.dataset.pollState, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
        const data = await res.json();
        if (res.ok && data.ready) {
          text.textContent = 'The OKMS domain is ready.';
          bar.classList.add('progress-done');
          bar.setAttribute('aria-valuenow', '100');
          next.hidden = false;
          next.focus();
          return;
        }
        if (!res.ok) {
          text.textContent = data.error || 'The progress could not be read.';
          if (res.status < 500) return; // refused or gone: polling will not help
        }
      } catch (_) { /* retried below */ }
      setTimeout(poll, 600);
    }
    setTimeout(poll, 300);
  }

  // ---- keyboard: lists and search ---------------------------------------
  // In a list (tbody[data-keynav]), the arrow keys move between the rows'
  // links, Home and End to the first and last; "/" goes to the search box.
  function initKeyNav() {
    $$('tbody[data-keynav]').forEach((body) => {
      body.addEventListener('keydown', (e) => {
        if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
        const links = $$('tr:not([hidden]) a.name', body);
        const i = links.indexOf(document.activeElement);
        if (i < 0) return;
        let j = i;
        if (e.key === 'ArrowDown') j = Math.min(links.length - 1, i + 1);
        if (e.key === 'ArrowUp') j = Math.max(0, i - 1);
        if (e.key === 'Home') j = 0;
        if (e.key === 'End') j = links.length - 1;
        e.preventDefault();
        links[j].focus();
      });
    });
    const search = $('input[type="search"]');
    if (search) {
      document.addEventListener('keydown', (e) => {
        const t = e.target;
        if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
        if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        e.preventDefault();
        search.focus();
        search.select();
      });
    }
  }

  // ---- typed confirmations: the button waits for the name -------------
  function initTypedConfirm() {
    $$('input[data-typed-confirm]').forEach((i) => {
      const b = $('[data-confirm-button]', i.form);
      const sync = () => { b.disabled = i.value !== i.dataset.typedConfirm; };
      i.addEventListener('input', sync);
      sync();
    });
  }

  // A mistake shown next to its field marks the field, and says so to
  // screen readers; the focus goes to it.
  function initFieldErrors() {
    $$('[data-error-for]').forEach((p, i) => {
      const f = document.getElementById(p.dataset.errorFor);
      if (!f) return;
      f.setAttribute('aria-invalid', 'true');
      f.setAttribute('aria-describedby', (p.id + ' ' + (f.getAttribute('aria-describedby') || '')).trim());
      if (i === 0) f.focus();
    });
  }

  function init() {
    enhance();
    initFieldErrors();
    initCopyFrom();
    initDownloads();
    initJSONEditors();
    initMetaRows();
    initKVEditors();
    initTypedConfirm();
    initKeyNav();
    initAutosubmit();
    initRowFilter();
    initValuePanel();
    initLoadCurrent();
    initActivation();
    document.documentElement.dataset.enhanced = 'true';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
