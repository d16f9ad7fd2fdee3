/* The web chat page (bot/templates/chat.html): one question at a time through the JSON API.
 *
 * Every request sends the session cookie and the page's CSRF token (X-CSRFToken). Replies are
 * {conversation, messages, question, done, reference, language}; the question's choices become
 * buttons (checkboxes for "multi"), which send the choice's number, as a text reply would. New
 * messages go into the transcript, a role="log" aria-live="polite" region, so screen readers
 * announce them; focus moves to the first control of the new question. Nothing of the
 * conversation is kept in the browser: a reload asks the API for the draft's current question.
 * The words this script writes come translated in the page language from the JSON in
 * #chat-strings (with {named} placeholders filled here); data-page-lang is that language.
 * Each send carries a new client_message_id; when its response is lost (no answer, or a 5xx) it is
 * sent again with the same id, a few times, and the API answers a repeat with the stored reply, so
 * an answer is never applied twice.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root) return;

  var RTL = {};
  (root.getAttribute("data-rtl") || "").split(" ").forEach(function (code) { if (code) RTL[code] = true; });
  var pageLang = root.getAttribute("data-page-lang") || "en";
  var STRINGS = {};
  try { STRINGS = JSON.parse(document.getElementById("chat-strings").textContent); } catch (e) { STRINGS = {}; }
  function uiText(key, fallback, params) {
    var value = STRINGS[key] || fallback;
    Object.keys(params || {}).forEach(function (name) {
      value = value.split("{" + name + "}").join(String(params[name]));
    });
    return value;
  }
  var api = root.getAttribute("data-api");
  var csrf = root.getAttribute("data-csrf");
  var el = function (id) { return document.getElementById(id); };
  var startSection = el("start");
  var conversationPanel = el("conversation-panel");
  var conversationRegion = el("conversation");
  var transcript = el("transcript");
  var questionBox = el("question");
  var choicesBox = el("choices");
  var answerForm = el("answer-form");
  var answerInput = el("answer");
  var progress = el("progress");
  var confirmButton = el("confirm");
  var skipButton = el("skip");
  var doneBox = el("done");
  var errorBox = el("chat-error");
  var errorText = el("chat-error-text");

  var RETRY_DELAYS_MS = [500, 1500, 3000];
  var conversationId = null;
  var busy = false;
  var turns = 0;

  function request(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401) {
          window.location.assign("/casework/sign-in?next=" + encodeURIComponent("/chat"));
        }
        if (!response.ok) {
          var problem = new Error(data.error || uiText("error", "Something went wrong ({status}). Try again.", { status: response.status }));
          problem.status = response.status;
          // the API's messages are English unless it names their language (429 on resume)
          problem.language = data.language || (data.error ? "en" : pageLang);
          throw problem;
        }
        return data;
      });
    });
  }

  function showError(message, language) {
    language = language || pageLang;
    errorText.setAttribute("lang", language);
    errorText.setAttribute("dir", RTL[language] ? "rtl" : "ltr");
    errorText.textContent = message;
    errorBox.hidden = false;
    errorBox.focus();
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
  }

  function setBusy(value) {
    busy = value;
    root.setAttribute("aria-busy", value ? "true" : "false");
    var controls = root.querySelectorAll("button, input, select");
    for (var i = 0; i < controls.length; i++) {
      if (controls[i].closest("#resume")) continue;
      controls[i].disabled = value;
    }
  }

  function addMessage(text, who) {
    var item = document.createElement("li");
    item.className = "app-chat__message app-chat__message--" + who;
    var speaker = document.createElement("span");
    speaker.className = "govuk-visually-hidden";
    speaker.setAttribute("lang", pageLang);
    speaker.textContent = (who === "user" ? uiText("you_said", "You said:") : uiText("assistant", "Assistant:")) + " ";
    var body = document.createElement("span");
    body.className = "app-chat__text";
    body.setAttribute("dir", "auto");  // an untranslated or typed message keeps its own direction
    body.textContent = text;
    item.appendChild(speaker);
    item.appendChild(body);
    transcript.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function setLanguage(code) {
    code = code || "en";
    conversationRegion.setAttribute("lang", code);
    conversationRegion.setAttribute("dir", RTL[code] ? "rtl" : "ltr");
  }

  function choiceButtons(question) {
    var group = document.createElement("div");
    group.className = "govuk-button-group app-chat__choice-group";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", uiText("choices", "Choices"));
    question.choices.forEach(function (choice, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "govuk-button govuk-button--secondary app-chat__choice";
      button.setAttribute("data-choice", String(index + 1));
      button.setAttribute("data-value", choice.value);
      button.textContent = choice.label;
      button.addEventListener("click", function () { send(String(index + 1), choice.label); });
      group.appendChild(button);
    });
    return group;
  }

  function choiceCheckboxes(question) {
    var form = document.createElement("form");
    form.className = "app-chat__multi";
    form.noValidate = true;
    var fieldset = document.createElement("fieldset");
    fieldset.className = "govuk-fieldset";
    var legend = document.createElement("legend");
    legend.className = "govuk-fieldset__legend govuk-fieldset__legend--s";
    legend.setAttribute("lang", pageLang);  // the service's words, inside the conversation's region
    legend.setAttribute("dir", RTL[pageLang] ? "rtl" : "ltr");
    legend.textContent = uiText("select_all", "Select all that apply");
    fieldset.appendChild(legend);
    var boxes = document.createElement("div");
    boxes.className = "govuk-checkboxes govuk-checkboxes--small";
    question.choices.forEach(function (choice, index) {
      var item = document.createElement("div");
      item.className = "govuk-checkboxes__item";
      var input = document.createElement("input");
      input.className = "govuk-checkboxes__input";
      input.type = "checkbox";
      input.id = "choice-" + (index + 1);
      input.value = String(index + 1);
      input.setAttribute("data-choice", String(index + 1));
      input.setAttribute("data-value", choice.value);
      var label = document.createElement("label");
      label.className = "govuk-label govuk-checkboxes__label";
      label.htmlFor = input.id;
      label.textContent = choice.label;
      item.appendChild(input);
      item.appendChild(label);
      boxes.appendChild(item);
    });
    fieldset.appendChild(boxes);
    form.appendChild(fieldset);
    var submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "govuk-button";
    submit.id = "send-choices";
    submit.setAttribute("lang", pageLang);
    submit.textContent = uiText("send_choices", "Send choices");
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = [];
      var labels = [];
      form.querySelectorAll("input:checked").forEach(function (input) {
        picked.push(input.value);
        labels.push(input.nextSibling.textContent);
      });
      if (!picked.length) {
        showError(uiText("select_one", "Select at least one choice, or type an answer."));
        return;
      }
      send(picked.join(" "), labels.join(", "));
    });
    return form;
  }

  // The conversation this tab is on (an id, nothing personal), so that a reload after a lost
  // response, e.g. to CONFIRM, shows that conversation again: its reference once it was sent.
  var SHOWN = "nrm-chat-conversation";
  function keep(id) {
    try { if (id) { sessionStorage.setItem(SHOWN, id); } else { sessionStorage.removeItem(SHOWN); } }
    catch (ignored) { /* storage refused: a reload then resumes the latest draft */ }
  }
  function kept() {
    try { return sessionStorage.getItem(SHOWN); } catch (ignored) { return null; }
  }

  function render(reply, resumed) {
    turns += 1;
    root.setAttribute("data-turns", String(turns));  // lets tests wait for the next reply
    conversationId = reply.conversation;
    keep(conversationId);
    startSection.hidden = true;
    conversationPanel.hidden = false;
    setLanguage(reply.language);
    if (resumed) transcript.textContent = "";
    (reply.messages || []).forEach(function (message) { addMessage(message, "bot"); });

    var question = reply.question;
    choicesBox.textContent = "";
    if (reply.done) {
      questionBox.hidden = true;
      doneBox.hidden = false;
      progress.textContent = "";
      var reference = el("reference");
      reference.textContent = reply.reference || "";
      reference.setAttribute("data-reference", reply.reference || "");
      el("done-title").textContent = reply.reference ? uiText("referral_sent", "Referral sent")
                                                      : uiText("conversation_ended", "Conversation ended");
      el("done-body").hidden = !reply.reference;
      el("new-referral").focus();
      return;
    }
    doneBox.hidden = true;
    questionBox.hidden = false;
    // the summary is a question of kind "confirm": its one choice is the Confirm button
    var summary = !question || question.kind === "confirm";
    questionBox.setAttribute("data-question-id", question ? question.id : "review");
    questionBox.setAttribute("data-question-kind", question ? question.kind : "review");
    confirmButton.hidden = !summary;
    skipButton.hidden = !(question && question.optional);
    if (summary) {
      progress.textContent = uiText("check_answers", "Check your answers");
    } else if (question.of) {
      progress.textContent = uiText("section_progress", "{section}: question {step} of {of} (part {number} of {parts})", {
        section: question.section, step: question.step, of: question.of,
        number: question.section_number, parts: question.sections });
    } else {
      progress.textContent = "";
    }
    if (!summary && question.choices && question.choices.length) {
      choicesBox.appendChild(question.kind === "multi" ? choiceCheckboxes(question) : choiceButtons(question));
    }
    answerInput.value = "";
    var first = choicesBox.querySelector("button, input") || (summary ? confirmButton : answerInput);
    if (first && !busy) first.focus();
  }

  function newMessageId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;  // a version 4 UUID, where randomUUID is missing (http)
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // The send that has no answer yet: sent again (automatically, or by the operator sending the same
  // text) it keeps its client_message_id, so the API applies it once and answers with its stored reply.
  var unanswered = null;

  function post(message, attempt) {
    return request("POST", "/conversations/" + encodeURIComponent(message.conversation) + "/messages",
                   { text: message.text, client_message_id: message.id })
      .catch(function (problem) {
        var lost = !problem.status || problem.status >= 500;  // no response, or the server failed
        if (!lost || attempt >= RETRY_DELAYS_MS.length) throw problem;
        return new Promise(function (resolve) { setTimeout(resolve, RETRY_DELAYS_MS[attempt]); })
          .then(function () { return post(message, attempt + 1); });
      });
  }

  function send(text, shown) {
    if (busy || !conversationId) return;
    clearError();
    addMessage(shown || text, "user");
    setBusy(true);
    var message = unanswered && unanswered.conversation === conversationId && unanswered.text === text
      ? unanswered : { conversation: conversationId, text: text, id: newMessageId() };
    unanswered = message;
    post(message, 0)
      .then(function (reply) { unanswered = null; setBusy(false); render(reply, false); })
      .catch(function (problem) {
        if (problem.status && problem.status < 500) unanswered = null;  // refused: nothing to retry
        setBusy(false);
        showError(problem.message, problem.language);
      });
  }

  function start(language) {
    clearError();
    setBusy(true);
    request("POST", "/conversations", { language: language })
      .then(function (reply) { setBusy(false); transcript.textContent = ""; render(reply, false); })
      .catch(function (problem) { setBusy(false); showError(problem.message, problem.language); });
  }

  function showStart() {
    conversationId = null;
    conversationPanel.hidden = true;
    startSection.hidden = false;
    el("start-language").focus();
  }

  answerForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = answerInput.value.trim();
    if (!text) {
      showError(uiText("type_answer", "Type an answer, or choose one of the buttons."));
      answerInput.focus();
      return;
    }
    send(text);
  });

  el("commands").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-command]");
    if (button) send(button.getAttribute("data-command"), button.textContent);
  });

  el("start-form").addEventListener("submit", function (event) {
    event.preventDefault();
    start(el("start-language").value);
  });

  el("new-referral").addEventListener("click", function () {
    transcript.textContent = "";
    keep(null);
    showStart();
  });

  el("resume-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = el("resume-code").value.trim();
    if (!code) {
      showError(uiText("enter_code", "Enter the resume code."));
      el("resume-code").focus();
      return;
    }
    clearError();
    setBusy(true);
    request("POST", "/resume", { code: code })
      .then(function (reply) {
        setBusy(false);
        el("resume-code").value = "";
        el("resume").open = false;
        transcript.textContent = "";
        render(reply, true);
      })
      .catch(function (problem) { setBusy(false); showError(problem.message, problem.language); });
  });

  // On load: the conversation this tab showed, if it is still open or was sent (so its reference
  // is shown); otherwise the operator's latest draft; otherwise the start.
  function open(ids) {
    var id = ids.shift();
    if (!id) { setBusy(false); showStart(); return; }
    request("GET", "/conversations/" + encodeURIComponent(id))
      .then(function (reply) {
        if (!reply.done || reply.reference) { setBusy(false); render(reply, true); } else { open(ids); }
      })
      .catch(function () { open(ids); });
  }
  setBusy(true);
  open([kept(), root.getAttribute("data-draft")].filter(function (id) { return id; }));
  root.setAttribute("data-ready", "true");
})();
