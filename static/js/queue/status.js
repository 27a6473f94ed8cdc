/*
 * The status line: "Offline: N changes waiting", "Saving…" (only for a save that takes a while),
 * or nothing once all is saved.
 *
 * Interface (app.syncStatus):
 *   show(waiting, offline)  says how many changes wait and whether the server is out of reach;
 *                           "Saving…" appears after a moment only if changes still wait then
 *                           (as app.changeLog counts them).
 */
var app = app || {};

app.syncStatus = (function () {
  'use strict';

  var SAVING_SHOWN_AFTER_MS = 400;

  var line = document.querySelector('.sync-status');
  var savingTimer = null;

  function show(waiting, offline) {
    if (!waiting) {
      clearTimeout(savingTimer);
      savingTimer = null;
      line.hidden = true;
      line.textContent = '';
      return;
    }
    if (offline || !navigator.onLine) {
      clearTimeout(savingTimer);
      savingTimer = null;
      line.textContent = 'Offline: ' + waiting + (waiting === 1 ? ' change' : ' changes') +
        ' waiting';
      line.hidden = false;
      return;
    }
    if (!line.hidden) {
      line.textContent = 'Saving…';
    } else if (!savingTimer) {
      // A save that is quick shows nothing; one that takes a while says so.
      savingTimer = setTimeout(function () {
        savingTimer = null;
        if (app.changeLog.waiting()) {
          line.textContent = 'Saving…';
          line.hidden = false;
        }
      }, SAVING_SHOWN_AFTER_MS);
    }
  }

  return { show: show };
})();
