// cradle console: enhancements only; every page works without this file.
"use strict";
(function () {
  // Search as you type: the results are fetched as a fragment and replace
  // the results list; the address bar follows.
  var input = document.querySelector("input[data-live]");
  if (input && window.fetch) {
    var target = document.getElementById(input.getAttribute("data-live"));
    var form = input.form;
    var timer = null;
    var latest = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = new URLSearchParams(new FormData(form)).toString();
        var ticket = ++latest;
        fetch("/search?" + query + "&fragment=1", { credentials: "same-origin" })
          .then(function (response) { return response.text(); })
          .then(function (html) {
            if (ticket !== latest) { return; }
            target.innerHTML = html; // server-rendered, escaped HTML
            history.replaceState(null, "", "/search?" + query);
          })
          .catch(function () {});
      }, 200);
    });
  }
  // Copy buttons.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "✓";
        });
      }
    });
  });

  // An element with attributes and children; text goes in as text nodes,
  // never as markup (answers quote product names as delivered).
  function element(name, attributes, children) {
    var node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // Chat: the question form streams the answer into the page. The form
  // posts to its data-stream route (server-sent events under the session
  // and its CSRF token; EventSource cannot POST, so fetch reads the
  // stream), and each event is drawn as it comes: text, numbered sources
  // linking to their products, notes, the end or an error.
  var chat = document.getElementById("chat-form");
  if (chat && window.fetch && window.TextDecoder && window.URLSearchParams) {
    chat.addEventListener("submit", function (submitted) {
      var question = chat.elements.question.value.trim();
      var thread = document.getElementById("thread");
      if (!question || !thread) { return; }
      submitted.preventDefault();
      var button = chat.querySelector("button[type=submit]");
      var body = new URLSearchParams(new FormData(chat));
      button.disabled = true;
      thread.appendChild(element("article", { "class": "message question" }, [
        element("h3", {}, chat.getAttribute("data-you")),
        element("p", {}, question)
      ]));
      var card = element("article", {
        "class": "message card", "aria-label": chat.getAttribute("data-answer"), "aria-busy": "true"
      });
      var text = element("p", { "class": "answer" });
      card.appendChild(text);
      thread.appendChild(card);
      var sources = null;
      var ended = false;
      function fail(message) {
        ended = true;
        card.appendChild(element("p", { "class": "alert", role: "alert" },
          message || chat.getAttribute("data-failed")));
      }
      function conversation(id) {
        chat.elements.conversation.value = id;
        var href = "/chat?conversation=" + encodeURIComponent(id);
        history.replaceState(null, "", href);
        var list = document.getElementById("conversation-list");
        if (list && !list.querySelector("a[data-id]") && !list.querySelector("a[aria-current=page]")) {
          var link = element("a", { href: href, "aria-current": "page", "data-id": id }, question);
          list.insertBefore(element("li", {}, [link]), list.firstChild);
          var none = document.getElementById("no-conversations");
          if (none) { none.parentNode.removeChild(none); }
        }
      }
      function cite(event) {
        if (!sources) {
          card.appendChild(element("h3", {}, chat.getAttribute("data-sources")));
          sources = element("ol", { "class": "citations" });
          card.appendChild(sources);
        }
        var source = event.source || {};
        var item = element("li", { value: String(event.n) }, [
          element("a", { href: "/products/" + encodeURIComponent(event.article_no) }, event.article_no),
          ": " + source.attribute + " = " + source.value
        ]);
        var place = [source.file, source.sheet, source.row, source.column]
          .filter(function (part) { return part !== null && part !== undefined && part !== ""; })
          .join(" · ");
        if (place) { item.appendChild(element("span", { "class": "muted" }, " (" + place + ")")); }
        sources.appendChild(item);
      }
      function dispatch(block) {
        var name = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          var colon = line.indexOf(":");
          if (colon === 0) { return; } // a comment: the keep-alive
          var field = colon < 0 ? line : line.slice(0, colon);
          var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") { name = value; } else if (field === "data") { data.push(value); }
        });
        if (!data.length) { return; }
        var event;
        try { event = JSON.parse(data.join("\n")); } catch (error) { return; }
        if (name === "conversation") { conversation(event.id); }
        else if (name === "delta") { text.appendChild(document.createTextNode(event.text)); }
        else if (name === "citation") { cite(event); }
        else if (name === "note") { card.appendChild(element("p", { "class": "muted" }, event.text)); }
        else if (name === "done") {
          ended = true;
          card.appendChild(element("p", { "class": "muted" }, event.mode));
          chat.elements.question.value = "";
        }
        else if (name === "error") { fail(event.message); }
      }
      fetch(chat.getAttribute("data-stream"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "text/event-stream" }
      }).then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (!response.ok || type.indexOf("text/event-stream") !== 0 || !response.body) {
          return response.json().then(function (answer) {
            fail(answer && answer.error && answer.error.message);
          }, function () { fail(); });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function read() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              if (!ended) { fail(); }
              return;
            }
            buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n/g, "\n");
            var end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              dispatch(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
            return read();
          });
        }
        return read();
      }).catch(function () {
        if (!ended) { fail(); }
      }).then(function () {
        button.disabled = false;
        card.removeAttribute("aria-busy");
      });
    });
  }
})();
