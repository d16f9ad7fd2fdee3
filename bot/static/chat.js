/* The web chat page (bot/templates/chat.html): one question at a time through the JSON API.
 *
 * Every request sends the session cookie and the page's CSRF token (X-CSRFToken). Replies are
 * {conversation, messages, question, done, reference, language, refused}. The current question is
 * shown last, below the transcript, with the GOV.UK input that fits it: radios for a choice (and
 * for lookup suggestions), checkboxes for "multi", a date input for a date; the multi-line answer
 * box takes anything else, and commands. Each sends what a typed reply would (a choice's number,
 * a date as 3/2/1990). A refused answer is shown with the GOV.UK error summary and error message,
 * and aria-invalid on the field. New messages go into the transcript, a role="log" aria-live
 * region (focusable, so it scrolls from the keyboard), each with its time; focus moves to the
 * first control of the new question. The task list, "Check your answers" (whose Change links send
 * EDIT n) and the draft's stored transcript come from /chat/conversations/<id>/panels, so a reload
 * shows the whole history. The words this script writes come translated in the page language
 * from the JSON in #chat-strings (with {named} placeholders filled here); data-page-lang is that
 * language. Each send carries a new client_message_id; when its response is lost (no answer, or
 * a 5xx) it is sent again with the same id, a few times, and the API answers a repeat with the
 * stored reply, so an answer is never applied twice. "Exit this page" (GOV.UK Frontend) also ends
 * the operator's session as the page goes (POST /chat/exit) and forgets this tab's conversation.
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
  var log = el("transcript-log");
  var pages = root.getAttribute("data-pages");
  var currentBox = el("current");
  var currentTitle = el("current-title");
  var currentText = el("current-text");
  var answerError = el("answer-error");
  var answerErrorText = el("answer-error-text");
  var answerLabel = el("answer-label").textContent;
  var checkAnswers = el("check-answers");
  var aside = el("aside");

  var RETRY_DELAYS_MS = [500, 1500, 3000];
  var conversationId = null;
  var busy = false;
  var turns = 0;
  var panelsShown = 0;

  function request(method, path, body, base) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch((base || api) + path, options).then(function (response) {
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

  // -- errors: the GOV.UK error summary, and on the field the error message and aria-invalid --

  function showError(message, language, fieldId) {
    language = language || pageLang;
    errorText.textContent = "";
    var holder = errorText;
    if (fieldId && el(fieldId)) {
      holder = document.createElement("a");
      holder.href = "#" + fieldId;
      holder.addEventListener("click", function (event) {
        event.preventDefault();
        el(fieldId).focus();
      });
      errorText.appendChild(holder);
    }
    errorText.setAttribute("lang", language);
    errorText.setAttribute("dir", RTL[language] ? "rtl" : "ltr");
    holder.textContent = message;
    errorBox.hidden = false;
    errorBox.focus();
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
    root.querySelectorAll(".govuk-form-group--error").forEach(function (group) {
      group.classList.remove("govuk-form-group--error");
    });
    root.querySelectorAll("[aria-invalid]").forEach(function (field) { field.removeAttribute("aria-invalid"); });
    root.querySelectorAll(".app-chat__field-error").forEach(function (node) { node.remove(); });
    answerError.hidden = true;
    answerInput.setAttribute("aria-describedby", "answer-hint");
  }

  // The refusal on the field it is about: the structured input of the question if there is one,
  // else the answer box. Returns the id the error summary links to.
  function markField(message, language) {
    var group = choicesBox.querySelector(".govuk-form-group");
    if (!group) {
      el("answer-group").classList.add("govuk-form-group--error");
      answerErrorText.textContent = message;
      answerErrorText.setAttribute("lang", language);
      answerError.hidden = false;
      answerInput.setAttribute("aria-invalid", "true");
      answerInput.setAttribute("aria-describedby", "answer-hint answer-error");
      return "answer";
    }
    group.classList.add("govuk-form-group--error");
    var error = document.createElement("p");
    error.className = "govuk-error-message app-chat__field-error";
    error.id = "choices-error";
    error.setAttribute("lang", language);
    var hidden = document.createElement("span");
    hidden.className = "govuk-visually-hidden";
    hidden.setAttribute("lang", pageLang);
    hidden.textContent = uiText("error_prefix", "Error:") + " ";
    error.appendChild(hidden);
    error.appendChild(document.createTextNode(message));
    var fieldset = group.querySelector("fieldset");
    var legend = fieldset.querySelector("legend");
    legend.parentNode.insertBefore(error, legend.nextSibling);
    fieldset.setAttribute("aria-describedby", ((fieldset.getAttribute("aria-describedby") || "") + " choices-error").trim());
    var fields = group.querySelectorAll("input");
    fields.forEach(function (field) {
      if (field.type !== "radio" && field.type !== "checkbox") {
        field.classList.add("govuk-input--error");
        field.setAttribute("aria-invalid", "true");
      }
    });
    if (fields.length && (fields[0].type === "radio" || fields[0].type === "checkbox")) {
      fieldset.setAttribute("aria-invalid", "true");
    }
    return fields.length ? fields[0].id : "answer";
  }

  function setBusy(value) {
    busy = value;
    root.setAttribute("aria-busy", value ? "true" : "false");
    var controls = root.querySelectorAll("button, input, select, textarea");
    for (var i = 0; i < controls.length; i++) {
      if (controls[i].closest("#resume")) continue;
      controls[i].disabled = value;
    }
  }

  // -- the transcript: each message with its time, localised in the page language --

  var TIME_FORMAT = null;
  try {
    TIME_FORMAT = new Intl.DateTimeFormat(pageLang, { day: "numeric", month: "short", hour: "2-digit",
                                                       minute: "2-digit", timeZone: "Europe/London" });
  } catch (ignored) { TIME_FORMAT = null; }

  function addMessage(text, who, at) {
    var moment = at ? new Date(at) : new Date();
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
    var time = document.createElement("time");
    time.setAttribute("datetime", moment.toISOString());
    time.setAttribute("lang", pageLang);
    time.textContent = TIME_FORMAT ? TIME_FORMAT.format(moment) : moment.toISOString();
    item.appendChild(speaker);
    item.appendChild(body);
    item.appendChild(time);
    transcript.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function setLanguage(code) {
    code = code || "en";
    [conversationRegion, transcript].forEach(function (node) {
      node.setAttribute("lang", code);
      node.setAttribute("dir", RTL[code] ? "rtl" : "ltr");
    });
  }

  // -- the current question's inputs (GOV.UK radios, checkboxes, date input) --

  function pageWords(node) {  // the service's words, inside the conversation's region
    node.setAttribute("lang", pageLang);
    node.setAttribute("dir", RTL[pageLang] ? "rtl" : "ltr");
    return node;
  }

  function make(tag, className) {
    var node = document.createElement(tag);
    node.className = className;
    return node;
  }

  function fieldsetForm(className, legendText) {
    var form = make("form", className);
    form.noValidate = true;
    var group = make("div", "govuk-form-group");
    var fieldset = make("fieldset", "govuk-fieldset");
    var legend = pageWords(make("legend", "govuk-fieldset__legend govuk-fieldset__legend--s"));
    legend.textContent = legendText;
    fieldset.appendChild(legend);
    group.appendChild(fieldset);
    form.appendChild(group);
    return { form: form, fieldset: fieldset };
  }

  function submitButton(form, id, text) {
    var submit = pageWords(document.createElement("button"));
    submit.type = "submit";
    submit.className = "govuk-button";
    submit.id = id;
    submit.textContent = text;
    form.appendChild(submit);
  }

  function choiceInputs(question) {
    var multi = question.kind === "multi";
    var parts = fieldsetForm(multi ? "app-chat__multi" : "app-chat__single",
                             multi ? uiText("select_all", "Select all that apply") : uiText("select_one_choice", "Select one"));
    var type = multi ? "checkbox" : "radio";
    var css = multi ? "govuk-checkboxes" : "govuk-radios";
    var boxes = document.createElement("div");
    boxes.className = css + " " + css + "--small";
    boxes.setAttribute("data-module", css);
    question.choices.forEach(function (choice, index) {
      var item = document.createElement("div");
      item.className = css + "__item";
      var input = document.createElement("input");
      input.className = css + "__input";
      input.type = type;
      input.name = "choice";
      input.id = "choice-" + (index + 1);
      input.value = String(index + 1);
      input.setAttribute("data-choice", String(index + 1));
      input.setAttribute("data-value", choice.value);
      var label = document.createElement("label");
      label.className = "govuk-label " + css + "__label";
      label.htmlFor = input.id;
      label.setAttribute("dir", "auto");
      label.textContent = choice.label;
      item.appendChild(input);
      item.appendChild(label);
      boxes.appendChild(item);
    });
    parts.fieldset.appendChild(boxes);
    submitButton(parts.form, multi ? "send-choices" : "send-choice",
                 multi ? uiText("send_choices", "Send choices") : uiText("continue", "Continue"));
    parts.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = [];
      var labels = [];
      parts.form.querySelectorAll("input:checked").forEach(function (input) {
        picked.push(input.value);
        labels.push(input.nextSibling.textContent);
      });
      if (!picked.length) {
        clearError();
        showError(uiText("select_one", "Select at least one choice, or type an answer."), pageLang,
                  markField(uiText("select_one", "Select at least one choice, or type an answer."), pageLang));
        return;
      }
      send(picked.join(" "), labels.join(", "));
    });
    return parts.form;
  }

  function dateInput() {
    var parts = fieldsetForm("app-chat__date", uiText("date_legend", "Date"));
    parts.fieldset.setAttribute("role", "group");
    var hint = pageWords(document.createElement("div"));
    hint.className = "govuk-hint";
    hint.id = "date-hint";
    hint.textContent = uiText("date_hint", "For example, 27 3 2007.");
    parts.fieldset.setAttribute("aria-describedby", "date-hint");
    parts.fieldset.appendChild(hint);
    var row = document.createElement("div");
    row.className = "govuk-date-input";
    row.id = "date";
    row.setAttribute("dir", "ltr");  // day, month, year read left to right in every language
    [["day", 2], ["month", 2], ["year", 4]].forEach(function (field) {
      var item = make("div", "govuk-date-input__item");
      var group = make("div", "govuk-form-group");
      var label = pageWords(make("label", "govuk-label govuk-date-input__label"));
      label.htmlFor = "date-" + field[0];
      label.textContent = uiText(field[0], field[0]);
      var input = make("input", "govuk-input govuk-date-input__input govuk-input--width-" + field[1]);
      input.id = "date-" + field[0];
      input.name = field[0];
      input.type = "text";
      input.inputMode = "numeric";
      input.autocomplete = "off";
      group.appendChild(label);
      group.appendChild(input);
      item.appendChild(group);
      row.appendChild(item);
    });
    parts.fieldset.appendChild(row);
    submitButton(parts.form, "send-date", uiText("continue", "Continue"));
    parts.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = ["day", "month", "year"].map(function (name) { return el("date-" + name).value.trim(); });
      // what a person would type: 3/2/1990, 2/1990 or 1990 (the dialogue checks the rest)
      var text = values.filter(function (value) { return value; }).join("/");
      if (!values[2]) {
        clearError();
        showError(uiText("enter_date", "Enter a date, at least its year."), pageLang,
                  markField(uiText("enter_date", "Enter a date, at least its year."), pageLang));
        return;
      }
      send(text);
    });
    return parts.form;
  }

  var CONFIRMATIONS = { "confirm-restart": true, "confirm-discard": true, "did-you-mean": true };

  function showCurrent(question, prompt) {
    var pending = !!(question && CONFIRMATIONS[question.id]);
    currentBox.hidden = !prompt;
    currentBox.classList.toggle("app-chat__current--pending", pending);
    currentTitle.textContent = pending ? uiText("waiting_confirmation", "Waiting for your confirmation")
                                       : uiText("current_question", "Current question");
    el("pending").hidden = !pending;
    el("pending-text").textContent = pending ? prompt : "";
    currentText.hidden = pending;
    currentText.textContent = pending ? "" : prompt;
  }

  // -- the task list, "Check your answers" and the stored transcript --

  function applyPanels(panels) {
    el("tasks").innerHTML = panels.tasks || "";
    aside.hidden = false;
    checkAnswers.hidden = !panels.answers;
    el("answers").innerHTML = panels.answers || "";
    panelsShown += 1;
    root.setAttribute("data-panels", String(panelsShown));
  }

  function panelsOf(id) {
    return request("GET", "/conversations/" + encodeURIComponent(id) + "/panels", undefined, pages);
  }

  function refreshPanels() {
    if (!conversationId) return;
    var id = conversationId;
    panelsOf(id).then(function (panels) { if (id === conversationId) applyPanels(panels); })
      .catch(function () { /* the chat goes on without its side panels */ });
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

  // history: the stored transcript (a reload), shown instead of the reply's messages
  function render(reply, resumed, history) {
    turns += 1;
    root.setAttribute("data-turns", String(turns));  // lets tests wait for the next reply
    conversationId = reply.conversation;
    keep(conversationId);
    startSection.hidden = true;
    conversationPanel.hidden = false;
    setLanguage(reply.language);
    clearError();
    if (resumed || history) transcript.textContent = "";
    var lastPrompt = "";
    if (history && history.length) {
      history.forEach(function (entry) {
        addMessage(entry.text, entry.sender === "operator" ? "user" : "bot", entry.at);
        if (entry.sender !== "operator") lastPrompt = entry.text;
      });
    } else {
      (reply.messages || []).forEach(function (message) { addMessage(message, "bot"); });
    }
    var messages = reply.messages || [];
    if (messages.length) lastPrompt = messages[messages.length - 1];

    var question = reply.question;
    choicesBox.textContent = "";
    if (reply.done) {
      questionBox.hidden = true;
      currentBox.hidden = true;
      aside.hidden = true;
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
    if (!summary) checkAnswers.hidden = true;
    showCurrent(question, summary ? "" : lastPrompt);
    if (summary) {
      progress.textContent = uiText("check_answers", "Check your answers");
    } else if (question.of) {
      progress.textContent = uiText("section_progress", "{section}: question {step} of {of} (part {number} of {parts})", {
        section: question.section, step: question.step, of: question.of,
        number: question.section_number, parts: question.sections });
    } else {
      progress.textContent = "";
    }
    var structured = !summary && ((question.choices && question.choices.length) || question.kind === "date");
    if (structured) {
      choicesBox.appendChild(question.choices && question.choices.length ? choiceInputs(question) : dateInput());
    }
    el("answer-label").textContent = structured ? uiText("or_type", "Or type an answer or a command")
                                                : answerLabel;
    answerInput.value = "";
    if (reply.refused && messages.length > 1) {
      var reason = messages.slice(0, -1).join("\n");
      var language = reply.language || pageLang;
      showError(reason, language, markField(reason, language));
    }
    var first = choicesBox.querySelector("input") || (summary ? confirmButton : answerInput);
    if (first && !busy && !(reply.refused && messages.length > 1)) first.focus();
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
                   { text: message.text, client_message_id: message.id, shown: message.shown })
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
      ? unanswered : { conversation: conversationId, text: text, id: newMessageId(), shown: shown || text };
    unanswered = message;
    post(message, 0)
      .then(function (reply) { unanswered = null; setBusy(false); render(reply, false); refreshPanels(); })
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
      .then(function (reply) { setBusy(false); transcript.textContent = ""; render(reply, false); refreshPanels(); })
      .catch(function (problem) { setBusy(false); showError(problem.message, problem.language); });
  }

  function showStart() {
    conversationId = null;
    conversationPanel.hidden = true;
    aside.hidden = true;
    startSection.hidden = false;
    el("start-language").focus();
  }

  // Enter sends, as in any chat; Shift and Enter starts a new line of a long answer.
  answerInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      answerForm.requestSubmit ? answerForm.requestSubmit() : answerForm.dispatchEvent(new Event("submit"));
    }
  });

  answerForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = answerInput.value.trim();
    if (!text) {
      clearError();
      showError(uiText("type_answer", "Type an answer, or choose one of the buttons."), pageLang,
                markField(uiText("type_answer", "Type an answer, or choose one of the buttons."), pageLang));
      return;
    }
    send(text);
  });

  el("commands").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-command]");
    if (button) send(button.getAttribute("data-command"), button.textContent);
  });

  // "Check your answers": each Change link does what EDIT n does
  el("answers").addEventListener("click", function (event) {
    var link = event.target.closest("a[data-edit]");
    if (!link) return;
    event.preventDefault();
    send("EDIT " + link.getAttribute("data-edit"), link.textContent.replace(/\s+/g, " ").trim());
  });

  // The consent explanation for the person's route, in the language chosen, beside the chat
  el("explain-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!conversationId) return;
    request("POST", "/conversations/" + encodeURIComponent(conversationId) + "/explanation",
            { language: el("explain-language").value }, pages)
      .then(function (answer) { el("explanation").innerHTML = answer.html; })
      .catch(function (problem) { showError(problem.message, problem.language); });
  });

  // "Exit this page" (GOV.UK Frontend: its button, or Shift three times) hides the page and goes
  // to a neutral site; as the page goes, this tab forgets its conversation and the session ends.
  window.addEventListener("pagehide", function () {
    if (!document.body.classList.contains("govuk-exit-this-page-hide-content")) return;
    keep(null);
    transcript.textContent = "";
    var form = new FormData();
    form.append("csrf_token", csrf);
    if (navigator.sendBeacon) navigator.sendBeacon(pages + "/exit", form);
  });

  el("start-form").addEventListener("submit", function (event) {
    event.preventDefault();
    start(el("start-language").value);
  });

  el("new-referral").addEventListener("click", function () {
    transcript.textContent = "";
    aside.hidden = true;
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
        refreshPanels();
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
        if (reply.done && !reply.reference) { open(ids); return; }
        if (reply.done) { setBusy(false); render(reply, true); return; }
        // a draft: its stored transcript, then its current question last
        panelsOf(id).then(function (panels) {
          setBusy(false);
          render(reply, true, panels.history);
          applyPanels(panels);
        }, function () { setBusy(false); render(reply, true); });
      })
      .catch(function () { open(ids); });
  }
  setBusy(true);
  // a draft opened from the drafts list comes first
  var chosen = root.getAttribute("data-chosen") === "true";
  open((chosen ? [root.getAttribute("data-draft")] : [kept(), root.getAttribute("data-draft")])
    .filter(function (id) { return id; }));
  root.setAttribute("data-ready", "true");
})();
