/*
 * This page among the open pages of the same user. Each page holds a Web Lock for as long as it
 * is open, so the queued changes of a page that is gone (reloaded, closed, crashed) can be told
 * from those of a page still open, which stay with it.
 *
 * Interface (app.tabs):
 *   id()            this page's key, stored with each change it queues
 *   orphans(kept)   a promise of the kept changes whose page is gone: never this page's own, nor
 *                   those of a page that still holds its lock
 */
var app = app || {};

app.tabs = (function () {
  'use strict';

  var PREFIX = 'todomvc-page-';
  var tab = app.changeLog.newKey();

  if (navigator.locks) {
    navigator.locks.request(PREFIX + tab, function () { return new Promise(function () {}); });
  }

  /* The locks held now, by name; null where the browser has no Web Locks. */
  function openPages() {
    if (!navigator.locks) {
      return Promise.resolve(null);
    }
    return navigator.locks.query().then(function (state) {
      var held = {};
      state.held.forEach(function (lock) { held[lock.name] = true; });
      return held;
    });
  }

  function orphans(kept) {
    return openPages().then(function (held) {
      return kept.filter(function (change) {
        return change.tab !== tab && (!held || !held[PREFIX + change.tab]);
      });
    });
  }

  return {
    id: function () { return tab; },
    orphans: orphans
  };
})();
