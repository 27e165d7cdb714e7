// o4send dashboard: keeps a live page current. Every 2 s it fetches the page again and swaps in
// its <main>, so the figures follow the pushes without reloading the page (scroll position and
// focus stay). A session that ended sends the browser to the login page. The poll says it is one
// (X-O4send-Poll), so it does not keep the session alive: a page left open still logs out when
// nobody has touched it for dashboard.session_idle_secs.
"use strict";
setInterval(async () => {
  try {
    const r = await fetch(location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-O4send-Poll": "1" },
    });
    if (r.redirected || !r.ok) {
      location.reload();
      return;
    }
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html").querySelector("main");
    const now = document.querySelector("main");
    if (fresh && now) now.replaceWith(fresh);
  } catch (e) {
    // The appliance is restarting or out of reach: try again at the next turn.
  }
}, 2000);
