/* The fair kiosk (issue 18): pairing, browsing, product, cart, checkout, confirmation; offline orders queued in
 * IndexedDB and sent with their UUID as Idempotency-Key when the network returns; the stand's offline quota kept on
 * the device; idle reset. No framework: every screen is drawn into #kiosk-screen from the JSON API. */
(() => {
  'use strict';

  const root = document.getElementById('kiosk');
  const screen = document.getElementById('kiosk-screen');
  const statusLine = document.getElementById('kiosk-status');
  const langButton = document.getElementById('kiosk-lang');
  const cartButton = document.getElementById('kiosk-cart');
  const idleDialog = document.getElementById('kiosk-idle');
  const idleText = document.getElementById('kiosk-idle-text');
  const idleStay = document.getElementById('kiosk-idle-stay');

  const OUTLET_ID = Number(root.dataset.outletId);
  const CODE = root.dataset.outletCode;
  const IDLE_SECONDS = Math.max(5, Number(root.dataset.idleSeconds) || 90);
  const COUNTDOWN = Math.min(15, Math.max(3, Math.floor(IDLE_SECONDS / 3)));
  const STRINGS = JSON.parse(root.dataset.strings);
  const HEARTBEAT_MS = 30000;
  const API_TIMEOUT_MS = 10000;
  const LANGUAGE_NAMES = { vi: 'Tiếng Việt', en: 'English' };
  /** Vietnamese unless the shop's language was chosen for this kiosk; every visitor starts in it. */
  const START_LANG = STRINGS[root.dataset.lang] ? root.dataset.lang : 'vi';

  const controlledAtLoad = Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
  const state = {
    lang: START_LANG,
    pairing: null, // {token, device_id, outlet_id}
    revoked: false,
    online: navigator.onLine,
    products: [],
    byId: new Map(),
    catalogueError: false,
    quota: {}, // product id -> units the kiosk may still sell offline
    queue: [], // orders waiting or failed, as stored
    cart: new Map(), // product id -> qty
    screen: 'start',
    productId: null,
    query: '',
    group: null,
    stars: null,
    lastOrder: null,
    heartbeat: true,
  };

  // ---------------------------------------------------------------- words
  function t(key, vars) {
    const table = STRINGS[state.lang] || STRINGS.vi;
    let text = table[key] !== undefined ? table[key] : STRINGS.vi[key];
    if (text === undefined) text = key;
    if (vars) {
      for (const [name, value] of Object.entries(vars)) text = text.split('{' + name + '}').join(String(value));
    }
    return text;
  }

  function vnd(amount) {
    const digits = String(Math.abs(Math.round(amount))).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    return (amount < 0 ? '-' : '') + digits + ' ₫';
  }

  function dateText(iso) {
    if (!iso) return '—';
    const [y, m, d] = iso.slice(0, 10).split('-');
    return `${d}/${m}/${y}`;
  }

  /** Lowercase, without accents (đ → d): "Nước mắm" and "nuoc mam" fold alike. */
  function fold(text) {
    return String(text || '')
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd')
      .replace(/Đ/g, 'd')
      .toLowerCase()
      .replace(/\s+/g, ' ')
      .trim();
  }

  function matches(product, query) {
    const words = fold(query).split(' ').filter(Boolean);
    const name = product.folded;
    return words.every((word) => name.includes(word));
  }

  /** A Vietnamese number as core/phones.py accepts it: mobile 0[35789] + 8 digits, landline 02 + 9 digits. */
  function phoneOk(text) {
    let digits = String(text || '').normalize('NFKC').replace(/[\s.\-()]+/g, '');
    for (const international of ['+84', '0084', '84']) {
      if (digits.startsWith(international)) {
        const rest = digits.slice(international.length);
        digits = rest.startsWith('0') && !rest.startsWith('00') ? rest : '0' + rest;
        break;
      }
    }
    return /^0[35789][0-9]{8}$/.test(digits) || /^02[0-9]{9}$/.test(digits);
  }

  function localTime(date) {
    const pad = (n) => String(Math.abs(n)).padStart(2, '0');
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? '+' : '-';
    return (
      `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:` +
      `${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
    );
  }

  // ---------------------------------------------------------------- IndexedDB
  let dbPromise = null;
  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open('ocop-kiosk-' + CODE, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore('meta');
        request.result.createObjectStore('queue', { keyPath: 'id' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return dbPromise;
  }

  async function store(name, mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(name, mode);
      const request = work(tx.objectStore(name));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const metaGet = (key) => store('meta', 'readonly', (s) => s.get(key));
  const metaPut = (key, value) => store('meta', 'readwrite', (s) => s.put(value, key));
  const queueAll = () => store('queue', 'readonly', (s) => s.getAll());
  const queuePut = (entry) => store('queue', 'readwrite', (s) => s.put(entry));
  const queueDelete = (id) => store('queue', 'readwrite', (s) => s.delete(id));

  // ---------------------------------------------------------------- network
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || String(status));
      this.status = status;
      this.body = body || {};
    }
  }
  class NetworkError extends Error {}

  async function api(path, { method = 'GET', body, headers = {}, auth = true } = {}) {
    const sent = { Accept: 'application/json', 'Accept-Language': state.lang, ...headers };
    if (auth && state.pairing) sent.Authorization = 'Bearer ' + state.pairing.token;
    if (body !== undefined) sent['Content-Type'] = 'application/json';
    let response;
    try {
      // A hall's Wi-Fi may hang rather than fail: no answer in time counts as no network.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), API_TIMEOUT_MS);
      try {
        response = await fetch(path, {
          method,
          headers: sent,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      setOnline(false);
      throw new NetworkError(String(error));
    }
    // The service worker answers from its cache when the network failed: the kiosk is offline.
    if (response.headers.get('X-Kiosk-Cache') === 'offline') setOnline(false);
    else setOnline(true);
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (response.status === 401 && auth && state.pairing) {
      await becomeRevoked();
      throw new ApiError(401, data);
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function isOnline() {
    return navigator.onLine && state.online;
  }

  function setOnline(online) {
    const was = state.online;
    state.online = online;
    if (was !== online) {
      renderStatus();
      if (state.screen === 'checkout') renderScreen();
      if (online) onReconnect();
    }
  }

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function button(label, onClick, extra = {}) {
    const cls = 'kiosk-button ' + (extra.class || '');
    return el('button', { type: 'button', ...extra, class: cls, onclick: onClick }, label);
  }

  function starsText(stars) {
    if (!stars) return '';
    return '★'.repeat(stars) + ' ' + t('stars_n', { n: stars });
  }

  function show(node, focus = true) {
    screen.replaceChildren(node);
    const heading = screen.querySelector('h1');
    if (heading && focus) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }

  // ---------------------------------------------------------------- header
  function renderHeader() {
    document.documentElement.lang = state.lang;
    document.title = `${t('title')} – ${root.dataset.outletName}`;
    const other = state.lang === 'vi' ? 'en' : 'vi';
    langButton.textContent = LANGUAGE_NAMES[other];
    langButton.setAttribute('lang', other);
    const count = [...state.cart.values()].reduce((a, b) => a + b, 0);
    cartButton.textContent = count ? t('cart_n', { n: count }) : t('cart');
    cartButton.hidden = !state.pairing || state.revoked;
    idleDialog.querySelector('h2').textContent = t('idle_title');
    idleStay.textContent = t('idle_stay');
    renderStatus();
  }

  function renderStatus() {
    const waiting = state.queue.filter((entry) => entry.status === 'queued').length;
    const failed = state.queue.filter((entry) => entry.status === 'failed').length;
    const parts = [isOnline() ? t('online') : t('offline')];
    if (waiting) parts.push(t('queued_n', { n: waiting }));
    if (failed) parts.push(t('failed_n', { n: failed }));
    statusLine.textContent = parts.join(' · ');
    statusLine.classList.toggle('is-offline', !isOnline());
    statusLine.classList.toggle('has-failed', failed > 0);
    statusLine.dataset.queued = String(waiting);
    statusLine.dataset.failed = String(failed);
    statusLine.dataset.online = isOnline() ? '1' : '0';
  }

  // ---------------------------------------------------------------- screens
  function renderScreen(focus = true) {
    renderHeader();
    if (state.revoked) return show(revokedScreen(), focus);
    if (!state.pairing) return show(pairingScreen(), focus);
    const screens = { start: startScreen, product: productScreen, cart: cartScreen, checkout: checkoutScreen, done: doneScreen };
    show((screens[state.screen] || startScreen)(), focus);
  }

  function go(name, extra = {}) {
    Object.assign(state, extra, { screen: name });
    renderScreen();
  }

  function pairingScreen() {
    const message = el('p', { class: 'kiosk-error', role: 'alert' });
    const input = el('input', {
      id: 'pair-code',
      name: 'code',
      inputmode: 'numeric',
      autocomplete: 'off',
      maxlength: '6',
      pattern: '[0-9]{6}',
      required: true,
      class: 'kiosk-input kiosk-code',
    });
    const form = el(
      'form',
      { class: 'kiosk-form', novalidate: true },
      el('label', { for: 'pair-code', text: t('pair_code') }),
      input,
      message,
      el('button', { type: 'submit', class: 'kiosk-button kiosk-button-primary', text: t('pair_button') }),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.textContent = '';
      const code = input.value.replace(/\D/g, '');
      if (code.length !== 6) {
        message.textContent = t('pair_wrong');
        return;
      }
      try {
        const answer = await api('/api/v1/kiosks/pair', {
          method: 'POST',
          body: { outlet_id: OUTLET_ID, code },
          auth: false,
        });
        state.pairing = { token: answer.token, device_id: answer.device_id, outlet_id: OUTLET_ID };
        await metaPut('pairing', state.pairing);
        await start();
      } catch (error) {
        const code = error.body && error.body.error;
        if (error instanceof NetworkError) message.textContent = t('pair_offline');
        else if (code === 'pairing_void') message.textContent = t('pair_void');
        else if (code === 'code_used') message.textContent = t('pair_used');
        else if (error.status === 429) message.textContent = t('pair_wait');
        else if (error.status >= 500) message.textContent = t('error');
        else message.textContent = t('pair_wrong');
      }
    });
    return el(
      'section',
      { class: 'kiosk-pairing' },
      el('h1', { text: t('pair_title') }),
      el('p', { class: 'kiosk-lead', text: root.dataset.outletName }),
      el('p', { text: t('pair_help') }),
      form,
    );
  }

  function revokedScreen() {
    const waiting = state.queue.length;
    return el(
      'section',
      { class: 'kiosk-revoked', 'data-screen': 'revoked' },
      el('h1', { text: t('revoked') }),
      waiting ? el('p', { class: 'kiosk-lead', text: t('revoked_queue', { n: waiting }) }) : null,
    );
  }

  function visibleProducts() {
    return state.products.filter(
      (p) =>
        (state.group === null || p.group === state.group) &&
        (state.stars === null || p.stars === state.stars) &&
        (!state.query || matches(p, state.query)),
    );
  }

  function productCard(product) {
    return el(
      'li',
      {},
      el(
        'button',
        {
          type: 'button',
          class: 'kiosk-card',
          'data-product-id': product.id,
          onclick: () => go('product', { productId: product.id }),
        },
        photo(product, '320'),
        el('span', { class: 'kiosk-card-name', text: product.name }),
        el('span', { class: 'kiosk-stars', text: starsText(product.stars) }),
        el('span', { class: 'kiosk-price', text: vnd(product.price_vnd) }),
      ),
    );
  }

  function photo(product, size) {
    if (product.photo && product.photo[size]) {
      return el('img', { src: product.photo[size], alt: '', class: 'kiosk-photo', width: size, height: Math.round(size * 0.75) });
    }
    return el('span', { class: 'kiosk-photo kiosk-photo-missing', 'aria-hidden': 'true', text: t('photo_missing') });
  }

  function startScreen() {
    const groups = [...new Set(state.products.map((p) => p.group))].sort();
    const stars = [...new Set(state.products.map((p) => p.stars).filter(Boolean))].sort();
    const grid = el('ul', { class: 'kiosk-grid', id: 'kiosk-grid' });
    const empty = el('p', { class: 'kiosk-empty', role: 'status' });
    const fillGrid = () => {
      const shown = visibleProducts();
      grid.replaceChildren(...shown.map(productCard));
      empty.textContent = shown.length ? '' : state.products.length ? t('no_results') : t('catalogue_empty');
    };
    const chip = (label, pressed, onClick) =>
      button(label, onClick, { class: 'kiosk-chip', 'aria-pressed': pressed ? 'true' : 'false' });
    const groupFilters = el(
      'div',
      { class: 'kiosk-chips', role: 'group', 'aria-labelledby': 'filter-group-label' },
      el('span', { id: 'filter-group-label', class: 'kiosk-chips-label', text: t('filter_group') }),
      chip(t('filter_all'), state.group === null, () => go('start', { group: null })),
      groups.map((g) => chip(t('groups')[g] || String(g), state.group === g, () => go('start', { group: g }))),
    );
    const starFilters = el(
      'div',
      { class: 'kiosk-chips', role: 'group', 'aria-labelledby': 'filter-stars-label' },
      el('span', { id: 'filter-stars-label', class: 'kiosk-chips-label', text: t('filter_stars') }),
      chip(t('filter_all'), state.stars === null, () => go('start', { stars: null })),
      stars.map((s) => chip('★'.repeat(s) + ' ' + t('stars_n', { n: s }), state.stars === s, () => go('start', { stars: s }))),
    );
    const section = el(
      'section',
      { class: 'kiosk-start', 'data-screen': 'start' },
      el('h1', { text: t('start_title') }),
      failedPanel(),
      searchBox(fillGrid),
      el('div', { class: 'kiosk-filters' }, groupFilters, starFilters),
      state.catalogueError && !state.products.length
        ? el('p', { class: 'kiosk-error', role: 'alert' }, t('catalogue_unavailable'), ' ', button(t('retry'), () => start()))
        : null,
      empty,
      grid,
    );
    fillGrid();
    return section;
  }

  /** Orders the server refused on sync: kept on the device and listed for the stand's staff, never dropped. */
  function failedPanel() {
    const failed = state.queue.filter((entry) => entry.status === 'failed');
    if (!failed.length) return null;
    return el(
      'section',
      { class: 'kiosk-failed', 'aria-labelledby': 'kiosk-failed-title' },
      el('h2', { id: 'kiosk-failed-title', text: t('failed_title') }),
      el(
        'ul',
        {},
        failed.map((entry) =>
          el(
            'li',
            { 'data-order-id': entry.id },
            `${t('temp_code')} ${entry.id.slice(0, 8).toUpperCase()} · ${entry.body.occurred_at.slice(11, 16)} · ` +
              `${entry.body.customer.name} · ${entry.body.customer.phone}: ` +
              ((entry.error && entry.error.message) || t('error')),
          ),
        ),
      ),
    );
  }

  let suggestTimer = null;
  let suggestSerial = 0;
  function searchBox(onChange) {
    const list = el('ul', { id: 'kiosk-suggestions', class: 'kiosk-suggestions', role: 'listbox', 'aria-label': t('suggestions') });
    list.hidden = true;
    const input = el('input', {
      id: 'kiosk-search',
      type: 'search',
      class: 'kiosk-input',
      placeholder: t('search_placeholder'),
      autocomplete: 'off',
      role: 'combobox',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': 'kiosk-suggestions',
      value: state.query,
    });
    const showSuggestions = (names) => {
      list.replaceChildren(
        ...names.map((name, index) =>
          el(
            'li',
            {
              role: 'option',
              id: `kiosk-suggestion-${index}`,
              class: 'kiosk-suggestion',
              'aria-selected': 'false',
              onclick: () => pick(name),
            },
            name,
          ),
        ),
      );
      list.hidden = names.length === 0;
      input.setAttribute('aria-expanded', names.length ? 'true' : 'false');
    };
    const pick = (name) => {
      const product = state.products.find((p) => p.name === name);
      showSuggestions([]);
      if (product) {
        go('product', { productId: product.id, query: '' });
      } else {
        state.query = name;
        input.value = name;
        onChange();
      }
    };
    const suggest = async () => {
      const query = input.value;
      const serial = ++suggestSerial;
      if (fold(query).replace(/[^a-z0-9]/g, '').length < 3) return showSuggestions([]);
      // The stand's own products first (works offline, accent-insensitive); online, the shop's suggestions that the
      // stand holds too.
      const names = state.products.filter((p) => matches(p, query)).map((p) => p.name);
      if (isOnline()) {
        try {
          const answer = await api('/api/v1/suggest?q=' + encodeURIComponent(query), { auth: false });
          const here = new Map(state.products.map((p) => [p.folded, p.name]));
          for (const name of answer.suggestions || []) {
            const local = here.get(fold(name));
            if (local && !names.includes(local)) names.push(local);
          }
        } catch (error) {
          /* offline or busy: the stand's own list is enough */
        }
      }
      if (serial === suggestSerial) showSuggestions(names.slice(0, 8));
    };
    input.addEventListener('input', () => {
      state.query = input.value;
      onChange();
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(suggest, 150);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') showSuggestions([]);
    });
    const clear = button(t('search_clear'), () => {
      input.value = '';
      state.query = '';
      showSuggestions([]);
      onChange();
      input.focus();
    }, { class: 'kiosk-button-quiet' });
    return el(
      'div',
      { class: 'kiosk-search', role: 'search' },
      el('label', { for: 'kiosk-search', text: t('search_label') }),
      el('div', { class: 'kiosk-search-row' }, input, clear),
      list,
    );
  }

  function productScreen() {
    const product = state.byId.get(state.productId);
    if (!product) return startScreen();
    const cert = product.certificate || {};
    const added = el('p', { class: 'kiosk-note', role: 'status' });
    return el(
      'section',
      { class: 'kiosk-product', 'data-screen': 'product' },
      button(t('back'), () => go('start'), { class: 'kiosk-button-quiet kiosk-back' }),
      el(
        'div',
        { class: 'kiosk-product-body' },
        el('div', { class: 'kiosk-product-photo' }, photo(product, '640')),
        el(
          'div',
          { class: 'kiosk-product-facts' },
          el('h1', { text: product.name }),
          el('p', { class: 'kiosk-price kiosk-price-large', text: vnd(product.price_vnd) }),
          el(
            'dl',
            { class: 'kiosk-certificate' },
            el('dt', { text: t('certificate') }),
            el('dd', { class: 'kiosk-stars', text: starsText(cert.stars || product.stars) }),
            el('dt', { text: t('issued_on') }),
            el('dd', { text: dateText(cert.issued_on) }),
            el('dt', { text: t('expires_on') }),
            el('dd', { text: dateText(cert.expires_on) }),
            el('dt', { text: t('producer') }),
            el('dd', { text: product.producer || '—' }),
          ),
          button(
            t('add_to_cart'),
            () => {
              state.cart.set(product.id, (state.cart.get(product.id) || 0) + 1);
              added.textContent = t('added');
              renderHeader();
            },
            { class: 'kiosk-button-primary kiosk-add' },
          ),
          added,
        ),
        el(
          'figure',
          { class: 'kiosk-qr' },
          el('img', { src: qrUrl(product.id), alt: t('qr_alt', { name: product.name }), width: '240', height: '240' }),
          el('figcaption', { text: t('scan_phone') }),
        ),
      ),
    );
  }

  function qrUrl(productId) {
    return `/kiosk/${encodeURIComponent(CODE)}/qr/${productId}.svg`;
  }

  function cartTotal() {
    let total = 0;
    for (const [id, qty] of state.cart) total += (state.byId.get(id)?.price_vnd || 0) * qty;
    return total;
  }

  function cartScreen() {
    const lines = [...state.cart].filter(([id]) => state.byId.has(id));
    const change = (id, delta) => {
      const qty = (state.cart.get(id) || 0) + delta;
      if (qty <= 0) state.cart.delete(id);
      else state.cart.set(id, qty);
      renderScreen(false);
    };
    return el(
      'section',
      { class: 'kiosk-cart', 'data-screen': 'cart' },
      el('h1', { text: t('cart') }),
      lines.length
        ? el(
            'ul',
            { class: 'kiosk-lines' },
            lines.map(([id, qty]) => {
              const product = state.byId.get(id);
              return el(
                'li',
                { class: 'kiosk-line', 'data-product-id': id },
                el('span', { class: 'kiosk-line-name', text: product.name }),
                el('span', { class: 'kiosk-price', text: vnd(product.price_vnd) }),
                el(
                  'span',
                  { class: 'kiosk-qty' },
                  button('−', () => change(id, -1), { 'aria-label': t('less', { name: product.name }) }),
                  el('output', { class: 'kiosk-qty-value', 'aria-label': t('qty'), text: String(qty) }),
                  button('+', () => change(id, 1), { 'aria-label': t('more', { name: product.name }) }),
                ),
                button('✕', () => change(id, -qty), { 'aria-label': t('remove', { name: product.name }), class: 'kiosk-button-quiet' }),
              );
            }),
          )
        : el('p', { class: 'kiosk-empty', text: t('cart_empty') }),
      el('p', { class: 'kiosk-total' }, t('total') + ': ', el('strong', { text: vnd(cartTotal()) })),
      el(
        'div',
        { class: 'kiosk-actions' },
        button(t('keep_shopping'), () => go('start'), { class: 'kiosk-button-quiet' }),
        lines.length ? button(t('to_checkout'), () => go('checkout'), { class: 'kiosk-button-primary' }) : null,
      ),
    );
  }

  const checkoutDraft = { name: '', phone: '', method: 'cash', adult: false, error: '' };

  function checkoutScreen() {
    const online = isOnline();
    if (!online) checkoutDraft.method = 'cash';
    const error = el('p', { class: 'kiosk-error', role: 'alert', id: 'checkout-error', text: checkoutDraft.error });
    const field = (id, label, attributes) =>
      el(
        'div',
        { class: 'kiosk-field' },
        el('label', { for: id, text: label }),
        el('input', { id, class: 'kiosk-input', autocomplete: 'off', required: true, ...attributes }),
      );
    const radio = (value, label, disabled) =>
      el(
        'label',
        { class: 'kiosk-choice' },
        el('input', {
          type: 'radio',
          name: 'method',
          value,
          checked: checkoutDraft.method === value,
          disabled,
          onchange: () => {
            checkoutDraft.method = value;
          },
        }),
        label,
      );
    const submit = el('button', { type: 'submit', class: 'kiosk-button kiosk-button-primary', text: t('place_order') });
    const form = el(
      'form',
      { class: 'kiosk-form', novalidate: true },
      field('checkout-name', t('name'), { name: 'name', value: checkoutDraft.name, maxlength: '120' }),
      field('checkout-phone', t('phone'), { name: 'phone', type: 'tel', inputmode: 'tel', value: checkoutDraft.phone, maxlength: '20' }),
      el('p', { class: 'kiosk-note', text: t('pickup_here') + ': ' + root.dataset.outletName }),
      el(
        'fieldset',
        { class: 'kiosk-fieldset' },
        el('legend', { text: t('payment') }),
        radio('cash', t('cash'), false),
        radio('vietqr', t('vietqr'), !online),
        online ? null : el('p', { class: 'kiosk-note', text: t('vietqr_needs_network') }),
      ),
      el(
        'label',
        { class: 'kiosk-choice' },
        el('input', {
          type: 'checkbox',
          name: 'adult',
          checked: checkoutDraft.adult,
          onchange: (event) => {
            checkoutDraft.adult = event.target.checked;
          },
        }),
        t('adult'),
      ),
      el('p', { class: 'kiosk-total' }, t('total') + ': ', el('strong', { text: vnd(cartTotal()) })),
      error,
      el('div', { class: 'kiosk-actions' }, button(t('back'), () => go('cart'), { class: 'kiosk-button-quiet' }), submit),
    );
    form.addEventListener('input', () => {
      checkoutDraft.name = form.elements.name.value;
      checkoutDraft.phone = form.elements.phone.value;
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      checkoutDraft.name = form.elements.name.value.trim();
      checkoutDraft.phone = form.elements.phone.value.trim();
      error.textContent = '';
      if (!checkoutDraft.name) return (error.textContent = t('name_missing'));
      if (!checkoutDraft.phone) return (error.textContent = t('phone_missing'));
      if (!phoneOk(checkoutDraft.phone)) return (error.textContent = t('phone_wrong'));
      submit.disabled = true;
      submit.textContent = t('sending');
      const problem = await placeOrder();
      if (problem) {
        checkoutDraft.error = problem;
        if (state.screen === 'checkout') renderScreen(false);
        document.getElementById('checkout-error')?.focus?.();
      }
    });
    return el(
      'section',
      { class: 'kiosk-checkout', 'data-screen': 'checkout' },
      el('h1', { text: t('checkout_title') }),
      form,
    );
  }

  function doneScreen() {
    const order = state.lastOrder;
    if (!order) return startScreen();
    const qr = order.qr_url
      ? el(
          'figure',
          { class: 'kiosk-vietqr' },
          el('img', { src: order.qr_url, alt: t('vietqr_alt', { code: order.code }), width: '480', height: '480' }),
          el('figcaption', { text: t('scan_vietqr') }),
        )
      : null;
    return el(
      'section',
      { class: 'kiosk-done', 'data-screen': 'done' },
      el('h1', { text: t('done_title') }),
      el(
        'p',
        { class: 'kiosk-order-code' },
        (order.queued ? t('temp_code') : t('order_code')) + ': ',
        el('strong', { id: 'kiosk-order-code', text: order.code }),
      ),
      el('p', { class: 'kiosk-total' }, t('total') + ': ', el('strong', { text: vnd(order.total_vnd) })),
      qr,
      el('p', { class: 'kiosk-lead', text: qr ? t('scan_vietqr') : t('pay_at_counter') }),
      order.queued ? el('p', { class: 'kiosk-note', text: t('queued_note') }) : null,
      button(t('finish'), () => resetToStart(), { class: 'kiosk-button-primary' }),
    );
  }

  // ---------------------------------------------------------------- orders
  function orderBody(method) {
    return {
      lines: [...state.cart].map(([product_id, qty]) => ({ product_id, qty })),
      fulfilment: { type: 'pickup', outlet_id: OUTLET_ID },
      payment_method: method,
      customer: { name: checkoutDraft.name, phone: checkoutDraft.phone, email: '' },
      confirm_adult: checkoutDraft.adult,
    };
  }

  /** Orders on this kiosk that the server does not have (waiting or refused), as reported to staff. */
  function heldCount() {
    return state.queue.length;
  }

  function waitingCount() {
    return state.queue.filter((entry) => entry.status === 'queued').length;
  }

  /** Places the cart as an order; answers a message for the visitor when it was refused, else shows the done screen. */
  async function placeOrder() {
    const id = crypto.randomUUID();
    const body = orderBody(checkoutDraft.method);
    if (isOnline()) {
      try {
        const order = await api('/api/v1/orders', {
          method: 'POST',
          body,
          headers: { 'Idempotency-Key': id, 'X-Queued-Orders': String(heldCount()) },
        });
        const qrUrlPath = order.payment && order.payment.qr_url ? new URL(order.payment.qr_url, location.href) : null;
        finishOrder({ code: order.code, total_vnd: order.total_vnd, qr_url: qrUrlPath ? qrUrlPath.pathname + qrUrlPath.search : null });
        return null;
      } catch (error) {
        if (state.revoked) return null;
        if (!(error instanceof NetworkError)) return (error.body && error.body.message) || t('error');
        // The network dropped on the way: the order is taken offline below, under the same key.
      }
    }
    if (body.payment_method !== 'cash') return t('vietqr_needs_network');
    for (const line of body.lines) {
      const left = state.quota[line.product_id] || 0;
      if (line.qty > left) {
        const name = state.byId.get(line.product_id)?.name || String(line.product_id);
        return left > 0 ? t('beyond_quota', { n: left, name }) : t('not_in_quota', { name });
      }
    }
    const entry = { id, body: { ...body, occurred_at: localTime(new Date()) }, status: 'queued', created: Date.now() };
    await queuePut(entry);
    for (const line of body.lines) state.quota[line.product_id] -= line.qty;
    await metaPut('quota', state.quota);
    await loadQueue();
    finishOrder({ code: id.slice(0, 8).toUpperCase(), total_vnd: cartTotal(), qr_url: null, queued: true });
    scheduleSync(1000);
    return null;
  }

  function finishOrder(order) {
    state.lastOrder = order;
    state.cart.clear();
    Object.assign(checkoutDraft, { name: '', phone: '', method: 'cash', adult: false, error: '' });
    go('done');
  }

  async function loadQueue() {
    const failedBefore = state.queue.filter((entry) => entry.status === 'failed').length;
    state.queue = (await queueAll()).sort((a, b) => a.created - b.created);
    renderStatus();
    const failed = state.queue.filter((entry) => entry.status === 'failed').length;
    if (failed !== failedBefore && state.screen === 'start' && state.pairing && !state.revoked && state.products.length) {
      renderScreen(false);
    }
  }

  // ---------------------------------------------------------------- sync and heartbeat
  let syncing = false;
  let syncTimer = null;
  let backoff = 2000;

  function scheduleSync(delay) {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(syncQueue, delay);
  }

  async function syncQueue() {
    if (syncing || state.revoked || !state.pairing || !navigator.onLine) return;
    syncing = true;
    let sent = 0;
    let refused = 0;
    try {
      await loadQueue();
      for (const entry of state.queue.filter((e) => e.status === 'queued')) {
        try {
          await api('/api/v1/orders', {
            method: 'POST',
            body: entry.body,
            headers: { 'Idempotency-Key': entry.id, 'X-Queued-Orders': String(Math.max(0, heldCount() - 1)) },
          });
          await queueDelete(entry.id);
          sent += 1;
        } catch (error) {
          if (state.revoked) return;
          if (error instanceof NetworkError || error.status >= 500 || error.status === 429 || error.status === 408) {
            backoff = Math.min(backoff * 2, 60000);
            scheduleSync(backoff);
            return;
          }
          if (error.status === 409 && error.body.error === 'idempotency_conflict') {
            // This order's own UUID is already an order of this kiosk on the server: its first, online attempt
            // went through though its answer was lost. It is there once; nothing to send.
            await queueDelete(entry.id);
            sent += 1;
            await loadQueue();
            continue;
          }
          // Refused for good: kept on the device, shown to staff as failed, never dropped.
          const error_ = { status: error.status, code: error.body.error || null, message: error.body.message || null };
          await queuePut({ ...entry, status: 'failed', error: error_ });
          refused += 1;
        }
        await loadQueue();
      }
      backoff = 2000;
    } finally {
      syncing = false;
      await loadQueue();
      if (sent) await refreshQuota();
      // Staff see at once what the kiosk still holds (sent ones gone, refused ones counted).
      if (sent || refused) heartbeat();
    }
  }

  async function heartbeat() {
    if (!state.heartbeat || state.revoked || !state.pairing || !navigator.onLine) return;
    try {
      await api('/api/v1/devices/heartbeat', { method: 'POST', body: { queued: heldCount() } });
    } catch (error) {
      // A server without heartbeats yet (404/405): stop asking; anything else is tried again on the next beat.
      if (error instanceof ApiError && (error.status === 404 || error.status === 405)) state.heartbeat = false;
    }
  }

  function onReconnect() {
    if (state.revoked) {
      reportRevokedQueue();
      return;
    }
    if (!state.pairing) return;
    backoff = 2000;
    scheduleSync(0);
    heartbeat();
  }

  async function becomeRevoked() {
    if (state.revoked) return;
    state.revoked = true;
    clearTimeout(syncTimer);
    state.cart.clear();
    await metaPut('revoked', true);
    await loadQueue();
    closeIdle();
    renderScreen();
    reportRevokedQueue();
  }

  // A revoked kiosk can no longer send its orders; it still says how many it holds (the server records the number
  // and answers 401 again), so staff see them on the devices page.
  async function reportRevokedQueue() {
    if (!state.pairing || !navigator.onLine) return;
    try {
      await fetch('/api/v1/devices/heartbeat', {
        method: 'POST',
        headers: {
          Authorization: 'Bearer ' + state.pairing.token,
          'Content-Type': 'application/json',
          'X-Queued-Orders': String(heldCount()),
        },
        body: JSON.stringify({ queued: heldCount() }),
      });
    } catch (error) {
      // Offline: told again when the network is back (onReconnect).
    }
  }

  // ---------------------------------------------------------------- catalogue and quota
  async function loadCatalogue() {
    const stock = await api(`/api/v1/outlets/${OUTLET_ID}/stock`);
    const onHand = new Map();
    for (const lot of stock.items) onHand.set(lot.product_id, (onHand.get(lot.product_id) || 0) + lot.on_hand);
    const ids = [...onHand].filter(([, qty]) => qty > 0).map(([id]) => id);
    const details = await Promise.all(
      ids.map((id) =>
        api(`/api/v1/products/${id}`, { auth: false }).catch((error) => {
          if (error instanceof ApiError && error.status === 404) return null; // no longer on sale
          throw error;
        }),
      ),
    );
    const products = details.filter(Boolean).map((p) => {
      const cover = p.photos && p.photos[0];
      // WebP: the smallest of the variants the shop makes, and what Chromium kiosks show.
      const path = (url) => (url ? new URL(url, location.href).pathname.replace(/\.jpg$/, '.webp') : null);
      return {
        id: p.id,
        slug: p.slug,
        name: p.name,
        folded: fold(p.name),
        group: p.group,
        stars: p.stars,
        price_vnd: p.price_vnd,
        producer: p.producer,
        certificate: p.certificate,
        photo: cover ? { 320: path(cover.urls['320']), 640: path(cover.urls['640']) } : null,
      };
    });
    products.sort((a, b) => (b.stars || 0) - (a.stars || 0) || a.name.localeCompare(b.name, 'vi'));
    state.products = products;
    state.byId = new Map(products.map((p) => [p.id, p]));
    state.catalogueError = false;
  }

  /** Photos and QR codes pass through the service worker once, so that it keeps them for offline use. */
  async function warmCache() {
    if (!('serviceWorker' in navigator)) return;
    await controlled();
    if (!isOnline() || !navigator.serviceWorker.controller) return;
    // Once more through the worker when the page loaded before the worker controlled it (the very first visit).
    if (!controlledAtLoad) {
      try {
        await api(`/api/v1/outlets/${OUTLET_ID}/stock`);
        await Promise.all(state.products.map((p) => api(`/api/v1/products/${p.id}`, { auth: false }).catch(() => null)));
      } catch (error) {
        return;
      }
    }
    const urls = controlledAtLoad ? [] : [location.pathname];
    for (const p of state.products) {
      if (p.photo) urls.push(p.photo[320], p.photo[640]);
      urls.push(qrUrl(p.id));
    }
    for (let i = 0; i < urls.length; i += 4) {
      await Promise.all(urls.slice(i, i + 4).map((url) => fetch(url).catch(() => null)));
    }
    root.dataset.cached = '1';
  }

  /** Resolves once the service worker controls this page. A page that loaded while the worker was still being
   * installed is not claimed by its activation: it asks the active worker to claim it. */
  function controlled() {
    return new Promise((resolve) => {
      if (navigator.serviceWorker.controller) return resolve();
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true });
      navigator.serviceWorker.ready.then((registration) => {
        if (!navigator.serviceWorker.controller && registration.active) registration.active.postMessage('claim');
      });
      setTimeout(resolve, 10000);
    });
  }

  async function refreshQuota() {
    if (!state.pairing || !isOnline()) return;
    try {
      const answer = await api(`/api/v1/devices/${state.pairing.device_id}/quota`);
      const quota = {};
      for (const item of answer.items) quota[item.product_id] = item.qty;
      // Orders still on the device have not reached the server's quota yet.
      for (const entry of state.queue.filter((e) => e.status === 'queued')) {
        for (const line of entry.body.lines) quota[line.product_id] = (quota[line.product_id] || 0) - line.qty;
      }
      state.quota = quota;
      await metaPut('quota', quota);
    } catch (error) {
      /* offline: the stored copy stands */
    }
  }

  // ---------------------------------------------------------------- idle reset
  let lastActivity = Date.now();

  function activity() {
    lastActivity = Date.now();
    if (idleDialog.open) closeIdle();
  }

  function closeIdle() {
    if (idleDialog.open) idleDialog.close();
  }

  function somethingToReset() {
    return state.screen !== 'start' || state.cart.size > 0 || state.query || state.group !== null || state.stars !== null || state.lang !== START_LANG;
  }

  function idleTick() {
    if (state.revoked || !state.pairing || !somethingToReset()) {
      lastActivity = Date.now();
      closeIdle();
      return;
    }
    const idle = (Date.now() - lastActivity) / 1000;
    if (idle >= IDLE_SECONDS) {
      closeIdle();
      resetToStart();
    } else if (idle >= IDLE_SECONDS - COUNTDOWN) {
      idleText.textContent = t('idle_countdown', { n: Math.ceil(IDLE_SECONDS - idle) });
      if (!idleDialog.open) {
        idleDialog.showModal();
        idleStay.focus();
      }
    }
  }

  function resetToStart() {
    state.cart.clear();
    Object.assign(checkoutDraft, { name: '', phone: '', method: 'cash', adult: false, error: '' });
    Object.assign(state, { lang: START_LANG, query: '', group: null, stars: null, productId: null, lastOrder: null });
    lastActivity = Date.now();
    go('start');
  }

  // ---------------------------------------------------------------- start
  async function start() {
    renderHeader();
    await loadQueue();
    state.quota = (await metaGet('quota')) || {};
    if (state.revoked || !state.pairing) return renderScreen();
    try {
      await loadCatalogue();
    } catch (error) {
      state.catalogueError = true;
    }
    if (state.revoked) return;
    renderScreen();
    await refreshQuota();
    if (isOnline()) {
      scheduleSync(0);
      heartbeat();
    }
    warmCache();
  }

  async function boot() {
    langButton.addEventListener('click', () => {
      state.lang = state.lang === 'vi' ? 'en' : 'vi';
      renderScreen(false);
    });
    cartButton.addEventListener('click', () => go('cart'));
    idleStay.addEventListener('click', activity);
    idleDialog.addEventListener('cancel', activity);
    for (const type of ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart']) {
      document.addEventListener(type, activity, { capture: true, passive: true });
    }
    window.addEventListener('online', () => {
      setOnline(true);
      onReconnect();
    });
    window.addEventListener('offline', () => setOnline(false));
    setInterval(idleTick, 250);
    setInterval(() => {
      heartbeat();
      refreshQuota(); // staff may change the quota during the day
    }, HEARTBEAT_MS);
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register(root.dataset.sw, { scope: '/kiosk/' }).catch(() => null);
    }
    state.pairing = (await metaGet('pairing')) || null;
    state.revoked = Boolean(await metaGet('revoked'));
    await start();
    root.dataset.ready = '1';
  }

  boot();
})();
