/*
 * What this browser keeps for the signed-in user, in IndexedDB: the changes not yet saved (the
 * queue) and the last list the server sent (so the page opens offline). One database per user;
 * signing out deletes it.
 */
var app = app || {};

(function () {
  'use strict';

  var VERSION = 1;

  function name(user) {
    return 'todomvc:' + (user || 'shared');
  }

  /*
   * Opens the user's database. Every operation waits for the ones before it, so the queue is
   * written in the order the user made the changes. Without IndexedDB (a browser that refuses it)
   * the store keeps nothing and says so once.
   */
  app.Store = function (user) {
    this.user = user;
    this.db = null;
    this.chain = idb.openDB(name(user), VERSION, {
      upgrade: function (db) {
        db.createObjectStore('changes', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('state');
      }
    }).then(function (db) {
      this.db = db;
    }.bind(this), function (err) {
      window.console.warn('IndexedDB unavailable; unsaved changes will not survive a reload', err);
    });
  };

  /* Signing out: every list's database of the user goes, not only this page's. */
  app.Store.forgetAll = function (user) {
    if (!window.indexedDB || !indexedDB.databases) {
      return Promise.resolve();
    }
    var own = name(user);
    return indexedDB.databases().then(function (all) {
      return Promise.all(all.filter(function (db) {
        return db.name === own || db.name.indexOf(own + ':list:') === 0;
      }).map(function (db) { return idb.deleteDB(db.name); }));
    });
  };

  app.Store.prototype = {
    /* Runs `work(db)` after everything queued before it; resolves to its result. */
    then: function (work) {
      var store = this;
      var next = this.chain.then(function () {
        return store.db ? work(store.db) : undefined;
      });
      this.chain = next.catch(function (err) {
        window.console.error('IndexedDB', err);
      });
      return next;
    },

    /* The kept changes, oldest first, and the kept list. */
    load: function () {
      return this.then(function (db) {
        return Promise.all([db.getAll('changes'), db.get('state', 'server')]);
      }).then(function (both) {
        return { changes: (both && both[0]) || [], server: both && both[1] };
      });
    },

    /* Adds a change; its `seq` is set once stored. */
    add: function (change) {
      return this.then(function (db) {
        var copy = Object.assign({}, change);
        delete copy.seq;
        return db.add('changes', copy).then(function (seq) {
          change.seq = seq;
        });
      });
    },

    put: function (change) {
      return this.then(function (db) {
        return change.seq === undefined ? undefined : db.put('changes', change);
      });
    },

    /* Removes `gone` and rewrites `changed` in one transaction. */
    replace: function (gone, changed) {
      return this.then(function (db) {
        var tx = db.transaction('changes', 'readwrite');
        gone.forEach(function (change) {
          if (change.seq !== undefined) {
            tx.store.delete(change.seq);
          }
        });
        changed.forEach(function (change) {
          if (change.seq !== undefined) {
            tx.store.put(change);
          }
        });
        return tx.done;
      });
    },

    saveServer: function (server) {
      return this.then(function (db) {
        return db.put('state', server, 'server');
      });
    },

    /* Deletes the user's database. */
    forget: function () {
      var store = this;
      return this.then(function (db) {
        db.close();
        store.db = null;
      }).then(function () {
        return idb.deleteDB(name(store.user));
      });
    }
  };
})();
