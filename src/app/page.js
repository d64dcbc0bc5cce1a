// The page's own script, written into every page by the shell (`app::shell`) with the
// request's nonce, as `((appJs, appWasm) => { … })("/pkg/….js", "/pkg/….wasm")`.
//
// 1. Loads the app's WASM and hydrates the page's islands (`#[island]` components: the live
//    status, the history chart, the copy buttons and the forms that answer in place); the
//    rest of the page is server-rendered HTML that needs no code. `<main data-hydrated>`
//    marks a page whose islands have taken over.
// 2. Keeps navigation inside the page: a click on one of the app's links, or a submitted
//    form outside an island, fetches the next page and swaps its `<body>` in, so the WASM
//    is loaded and compiled once per visit. Anything else (another origin, a new tab, a
//    download, the API, an answer that is not one of our pages) is left to the browser.
// 3. Keeps live parts current: on a `qb:refresh` event (the live status sends one when the
//    usage changed) the elements marked `data-live` are rendered again by the server.
//
// 4. In the embed view (`/embed/usage`, framed by another site, where cookies may be
//    blocked), authenticates the page's own requests with the credential the server
//    exchanged for the address's launch token (`<main data-access>`), kept here in memory
//    only: fetches (live parts, server functions) as `Authorization: Bearer`, the usage
//    stream as `?access=`. It tells the parent window its height and, when the session
//    ends, shows the server's message in place of the usage.
//
// Islands learn that their page is going away from a `qb:leave` event, sent before a swap.
((appJs, appWasm) => {
  // Before anything could make a request: the embed view's credential.
  const embedded = document.getElementById('main');
  const access = embedded?.dataset.access;
  if (access) {
    embedded.removeAttribute('data-access');
    // The address's launch token works once: keep it out of the history and a reload.
    history.replaceState(null, '', location.pathname);
    const ownFetch = window.fetch.bind(window);
    window.fetch = (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).origin !== location.origin) return ownFetch(request);
      const headers = new Headers(request.headers);
      headers.set('Authorization', `Bearer ${access}`);
      return ownFetch(new Request(request, { headers }));
    };
    const OwnEventSource = window.EventSource;
    window.EventSource = class extends OwnEventSource {
      constructor(url, options) {
        const address = new URL(url, location.href);
        if (address.origin === location.origin) address.searchParams.set('access', access);
        super(address, options);
      }
    };
  }
  // Tells the parent window the page's height (`quotaboard:resize`) whenever it changes,
  // and that the session ended (`quotaboard:ended`, with why).
  const tell = (message) => window.parent !== window && window.parent.postMessage(message, '*');
  if (embedded?.classList.contains('embed')) {
    new ResizeObserver(() =>
      tell({ type: 'quotaboard:resize', height: Math.ceil(document.documentElement.getBoundingClientRect().height) }),
    ).observe(document.documentElement);
    if (embedded.dataset.ended) tell({ type: 'quotaboard:ended', reason: embedded.dataset.ended });
  }

  /** The app's module once its WASM runs. */
  let app;
  /** Counts navigations: an answer that arrives after a newer navigation is dropped. */
  let navigation = 0;
  /** The address whose page is shown: `popstate` for a mere `#fragment` change is not a visit. */
  let shown = location.pathname + location.search;
  /** An island's form submitted before the WASM ran: sent by its island once hydrated. */
  let waiting = null;

  // Hydrates every island under `root` (an island inside another hydrates with it), then
  // marks the page as taken over.
  const hydrate = (root) => {
    for (const island of root.querySelectorAll('leptos-island')) {
      if (island.parentElement.closest('leptos-island')) continue;
      const hydrateIsland = app[island.dataset.component];
      if (hydrateIsland) {
        hydrateIsland(island);
      } else {
        console.warn(`island ${island.dataset.component} is not in this build`);
      }
    }
    document.getElementById('main')?.setAttribute('data-hydrated', '');
    if (waiting?.form.isConnected) waiting.form.requestSubmit(waiting.submitter);
    waiting = null;
  };

  import(appJs)
    .then(async (module) => {
      await module.default({ module_or_path: appWasm });
      module.hydrate();
      app = module;
      hydrate(document.body);
    })
    .catch((error) => console.error('the app did not load', error));

  // An address this script may fetch and swap in: our own pages, not the API or files.
  const isPage = (url) =>
    url.origin === location.origin && !url.pathname.startsWith('/api/') && !/\.\w+$/.test(url.pathname);

  // The build a page runs: pages of another build need their own WASM, so a full load.
  const build = (doc) => doc.querySelector('link[rel="modulepreload"]')?.getAttribute('href');

  // Fetches `request` and shows the page it answers with; `how` is `push` (a new history
  // entry), `replace` or `pop` (back or forward: the entry exists). When the answer cannot
  // be swapped in, the browser opens where it led (`fallback(url)`), or with no answer at
  // all does its own navigation (`fallback()`).
  async function visit(request, how, fallback) {
    const current = ++navigation;
    let response, html;
    try {
      response = await fetch(request);
      html = (response.headers.get('content-type') ?? '').startsWith('text/html') ? await response.text() : null;
    } catch {
      html = null;
    }
    if (current !== navigation) return;
    const next = html === null ? null : new DOMParser().parseFromString(html, 'text/html');
    if (next === null || !next.getElementById('main') || build(next) !== build(document)) {
      fallback(response?.url);
      return;
    }
    window.dispatchEvent(new Event('qb:leave'));
    document.title = next.title;
    document.documentElement.lang = next.documentElement.lang;
    document.body.replaceWith(document.adoptNode(next.body));
    const url = new URL(response.url);
    if (how === 'push' && url.href !== location.href) history.pushState(null, '', url);
    else if (how !== 'pop') history.replaceState(null, '', url);
    shown = location.pathname + location.search;
    if (how !== 'pop') window.scrollTo(0, 0);
    // Keyboard and screen reader users continue from the new page's content, as after a load.
    document.getElementById('main')?.focus({ preventScroll: true });
    if (app) hydrate(document.body);
  }

  addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!link || link.target || link.hasAttribute('download') || link.relList.contains('external')) return;
    const url = new URL(link.href);
    if (!isPage(url)) return;
    // A link to a place on this page (the skip link) is the browser's.
    if (url.hash && url.pathname + url.search === location.pathname + location.search) return;
    event.preventDefault();
    visit(new Request(url, { headers: { Accept: 'text/html' } }), 'push', (led) => location.assign(led ?? url));
  });

  // Fields marked `data-omit-unchanged` (the usage filter's dates while they show the current
  // period) stay out of a GET form's address together while none of them was changed, so
  // the link keeps following the current period.
  const formData = (form, submitter) => {
    const data = new FormData(form, submitter);
    const marked = [...form.querySelectorAll('[data-omit-unchanged]')];
    if (marked.length && marked.every((field) => field.value === field.defaultValue || field.value === '')) {
      for (const field of marked) data.delete(field.name);
    }
    return new URLSearchParams([...data].filter(([, value]) => typeof value === 'string'));
  };

  addEventListener('submit', (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    // Forms inside islands are the islands' own; until the WASM runs, they wait for it (sent
    // by the browser, a new key's secret would never be shown).
    if (form.closest('leptos-island')) {
      if (!app) {
        event.preventDefault();
        waiting = { form, submitter: event.submitter?.form === form ? event.submitter : undefined };
      }
      return;
    }
    if (form.target) return;
    const action = new URL(form.action);
    const method = form.method.toUpperCase();
    if (action.origin !== location.origin || form.enctype === 'multipart/form-data') return;
    const data = formData(form, event.submitter);
    event.preventDefault();
    if (method === 'GET') {
      action.search = data.toString();
      if (!isPage(action)) return location.assign(action);
      visit(new Request(action, { headers: { Accept: 'text/html' } }), 'push', (led) => location.assign(led ?? action));
    } else {
      const request = new Request(action, { method: 'POST', body: data, headers: { Accept: 'text/html' } });
      // Sent once: with an answer, the browser opens where it led; with none, it submits.
      visit(request, 'push', (led) => (led ? location.assign(led) : form.submit()));
    }
  });

  addEventListener('popstate', () => {
    if (location.pathname + location.search === shown) return;
    const url = new URL(location.href);
    visit(new Request(url, { headers: { Accept: 'text/html' } }), 'pop', (led) => location.assign(led ?? url));
  });

  // Live parts: at most one refresh at a time, and one more if asked meanwhile.
  let refreshing = false;
  let again = false;
  addEventListener('qb:refresh', async () => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    do {
      again = false;
      const address = location.href;
      try {
        const response = await fetch(address, { headers: { Accept: 'text/html' } });
        const next = new DOMParser().parseFromString(await response.text(), 'text/html');
        if (location.href !== address) break;
        // The embed view's session ended: its message replaces the page.
        const ended = next.getElementById('main')?.dataset.ended;
        if (ended) {
          window.dispatchEvent(new Event('qb:leave'));
          document.body.replaceWith(document.adoptNode(next.body));
          tell({ type: 'quotaboard:ended', reason: ended });
          break;
        }
        for (const part of document.querySelectorAll('[data-live]')) {
          const fresh = next.getElementById(part.id);
          if (fresh) part.replaceWith(document.adoptNode(fresh));
        }
      } catch (error) {
        console.warn('refresh failed', error);
      }
    } while (again);
    refreshing = false;
  });
})
