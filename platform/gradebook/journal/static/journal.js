/* The journal grid's keyboard entry (gradebook/journal): arrow keys move between cells;
   typing opens the cell's editor, Enter saves it with fetch (JSON, X-CSRFToken header) and
   puts the cell's new HTML in place, Escape cancels. A refused value stays in the editor with
   the server's message under it. Without JavaScript the grid is read-only. */
(function () {
  "use strict";
  var table = document.querySelector("table.journal-grid[data-save-url]");
  if (!table) { return; }
  var saveUrl = table.dataset.saveUrl;
  var csrf = table.dataset.csrf;
  var genericError = table.dataset.error;

  /* One tab stop for the whole grid (a roving tabindex): the cell last focused. */
  function rove(button) {
    Array.prototype.forEach.call(table.querySelectorAll('button.jcell[tabindex="0"]'), function (other) {
      if (other !== button) { other.tabIndex = -1; }
    });
    button.tabIndex = 0;
  }
  Array.prototype.forEach.call(table.querySelectorAll("button.jcell"), function (button, index) {
    button.tabIndex = index === 0 ? 0 : -1;
  });
  table.addEventListener("focusin", function (event) {
    if (event.target.matches("button.jcell")) { rove(event.target); }
  });

  function cellAt(row, col) {
    var tr = table.tBodies[0].rows[row];
    if (!tr) { return null; }
    var tds = tr.querySelectorAll("td.j-cell");
    return tds[col] || null;
  }

  function position(td) {
    var tr = td.parentElement;
    var cols = Array.prototype.indexOf.call(tr.querySelectorAll("td.j-cell"), td);
    return { row: tr.sectionRowIndex, col: cols };
  }

  function focusCell(td) {
    if (!td) { return false; }
    var target = td.querySelector("input.j-editor") || td.querySelector("button.jcell");
    if (target) { target.focus(); return true; }
    return false;
  }

  // The next cell one can write in that direction: a substitute's grid has buttons only in
  // the columns of the lessons they hold, so the cells between are stepped over.
  function move(td, dRow, dCol) {
    var p = position(td);
    var row = p.row + dRow, col = p.col + dCol;
    for (var next = cellAt(row, col); next; next = cellAt(row, col)) {
      if (focusCell(next)) { return true; }
      if (!dRow && !dCol) { return false; }
      row += dRow; col += dCol;
    }
    return false;
  }

  function closeEditor(td) {
    var editor = td.querySelector("input.j-editor");
    var error = td.querySelector(".j-error");
    if (editor) { editor.remove(); }
    if (error) { error.remove(); }
    var button = td.querySelector("button.jcell");
    if (button) { button.hidden = false; }
    return button;
  }

  /* keepMark: the editor was opened by typing over the cell, so what is typed replaces the
     grades but not the attendance mark (a grade typed into an absent or late student's cell
     must not clear the mark); Enter, F2 or a click edit the whole cell. */
  function openEditor(td, initial, keepMark) {
    var button = td.querySelector("button.jcell");
    var editor = td.querySelector("input.j-editor");
    if (!editor) {
      editor = document.createElement("input");
      editor.type = "text";
      editor.className = "j-editor";
      editor.autocomplete = "off";
      editor.setAttribute("aria-label", button.getAttribute("aria-label"));
      td.appendChild(editor);
    }
    button.hidden = true;
    if (keepMark) { editor.dataset.keepMark = "1"; } else { delete editor.dataset.keepMark; }
    editor.value = initial;
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
    return editor;
  }

  function showError(td, editor, message) {
    var error = td.querySelector(".j-error");
    if (!error) {
      error = document.createElement("span");
      error.className = "j-error";
      error.id = "j-error-" + position(td).row + "-" + position(td).col;
      error.setAttribute("role", "alert");
      td.appendChild(error);
    }
    error.textContent = message;
    editor.setAttribute("aria-invalid", "true");
    editor.setAttribute("aria-describedby", error.id);
    editor.focus();
  }

  function save(td, editor) {
    var button = td.querySelector("button.jcell");
    if (editor.dataset.saving) { return; }
    editor.dataset.saving = "1";
    td.classList.add("j-saving");
    postJson(saveUrl, {
      lesson_id: button.dataset.lesson,
      student_id: button.dataset.student,
      value: editor.value,
      keep_mark: editor.dataset.keepMark === "1"
    }).then(function (result) {
      td.classList.remove("j-saving");
      delete editor.dataset.saving;
      if (!result.ok) {
        showError(td, editor, result.body.error || genericError);
        return;
      }
      td.innerHTML = result.body.html;
      td.querySelector("button.jcell").tabIndex = -1;
      var average = td.parentElement.querySelector("td.j-average");
      if (average) { average.textContent = result.body.average; }
      td.classList.add("j-saved");
      window.setTimeout(function () { td.classList.remove("j-saved"); }, 1200);
      if (!move(td, 1, 0)) { focusCell(td); }
    }).catch(function () {
      td.classList.remove("j-saving");
      delete editor.dataset.saving;
      showError(td, editor, genericError);
    });
  }

  /* The grades' kind and comment: a dialog posting each changed grade to the grades
     endpoint (grades.change_grade), then the cell is fetched again by saving what it holds. */
  var dialog = document.getElementById("j-grade-dialog");
  var dialogCell = null;

  function dialogError(message) {
    var error = dialog.querySelector(".j-dialog-error");
    error.textContent = message;
    error.hidden = !message;
  }

  function openGradeDialog(td) {
    var spans = td.querySelectorAll(".j-grade[data-url]");
    if (!dialog || !spans.length) { return; }
    var list = dialog.querySelector(".j-dialog-grades");
    var template = document.getElementById("j-grade-fields");
    list.textContent = "";
    Array.prototype.forEach.call(spans, function (span) {
      var fields = template.content.firstElementChild.cloneNode(true);
      var kind = fields.querySelector("[name=kind]");
      fields.dataset.url = span.dataset.url;
      fields.querySelector(".j-dialog-value").textContent = span.dataset.value;
      fields.dataset.value = span.dataset.value;
      if (span.dataset.kind && !kind.querySelector('option[value="' + span.dataset.kind + '"]')) {
        kind.appendChild(new Option(span.dataset.kindName, span.dataset.kind));
      }
      kind.value = span.dataset.kind;
      fields.querySelector("[name=comment]").value = span.dataset.comment;
      fields.dataset.initial = JSON.stringify([span.dataset.kind, span.dataset.comment]);
      list.appendChild(fields);
    });
    dialog.querySelector(".j-dialog-who").textContent = td.querySelector("button.jcell").getAttribute("aria-label");
    dialogError("");
    dialogCell = td;
    dialog.showModal();
    list.querySelector("[name=kind]").focus();
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        return { ok: false, body: { error: genericError } };
      }
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    });
  }

  if (dialog) {
    dialog.querySelector(".j-dialog-cancel").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      if (dialogCell) { focusCell(dialogCell); dialogCell = null; }
    });
    dialog.querySelector("form").addEventListener("submit", function (event) {
      event.preventDefault();
      var td = dialogCell;
      var changes = Array.prototype.filter.call(dialog.querySelectorAll(".j-dialog-grade"), function (fields) {
        var now = [fields.querySelector("[name=kind]").value, fields.querySelector("[name=comment]").value];
        return JSON.stringify(now) !== fields.dataset.initial;
      });
      var chain = Promise.resolve({ ok: true });
      changes.forEach(function (fields) {
        chain = chain.then(function (previous) {
          if (!previous.ok) { return previous; }
          return postJson(fields.dataset.url, {
            value: fields.dataset.value,
            kind: fields.querySelector("[name=kind]").value,
            comment: fields.querySelector("[name=comment]").value
          });
        });
      });
      chain.then(function (result) {
        if (!result.ok) {
          dialogError(result.body.error || genericError);
          return null;
        }
        var button = td.querySelector("button.jcell");
        return postJson(saveUrl, {
          lesson_id: button.dataset.lesson, student_id: button.dataset.student, value: button.dataset.value
        }).then(function (refreshed) {
          if (refreshed.ok) {
            td.innerHTML = refreshed.body.html;
            td.querySelector("button.jcell").tabIndex = -1;
          }
          dialog.close();
        });
      }).catch(function () { dialogError(genericError); });
    });
  }

  table.addEventListener("keydown", function (event) {
    var target = event.target;
    var td = target.closest("td.j-cell");
    if (!td) { return; }
    if (target.matches("input.j-editor")) {
      if (event.key === "Enter") {
        event.preventDefault();
        save(td, target);
      } else if (event.key === "Escape") {
        event.preventDefault();
        closeEditor(td).focus();
      }
      return;
    }
    if (!target.matches("button.jcell")) { return; }
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      event.preventDefault();
      move(td, moves[event.key][0], moves[event.key][1]);
    } else if (event.key === "Enter" && event.shiftKey) {
      event.preventDefault();
      openGradeDialog(td);
    } else if (event.key === "Enter" || event.key === "F2") {
      event.preventDefault();
      openEditor(td, target.dataset.value || "");
    } else if (event.key === "Backspace" || event.key === "Delete") {
      event.preventDefault();
      openEditor(td, "");
    } else if (event.key.length === 1 && event.key !== " " && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      openEditor(td, event.key, true);
    }
  });

  table.addEventListener("click", function (event) {
    var button = event.target.closest("button.jcell");
    if (button) { openEditor(button.closest("td.j-cell"), button.dataset.value || ""); }
  });

  table.addEventListener("focusout", function (event) {
    var editor = event.target;
    if (!editor.matches || !editor.matches("input.j-editor") || editor.dataset.saving) { return; }
    var td = editor.closest("td.j-cell");
    var button = td.querySelector("button.jcell");
    if (editor.value === (button.dataset.value || "") && !td.querySelector(".j-error")) {
      closeEditor(td);
    }
  });
})();
