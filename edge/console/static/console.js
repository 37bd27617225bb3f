/* tillpi staff console. Vanilla JS, no external code. Live updates by server-sent events. */
(function () {
  "use strict";

  var I18N = {
    en: {
      title: "Staff console", offline: "Offline", live: "Live", reconnecting: "Reconnecting…", logout: "Sign out",
      signin_title: "Sign in", username: "Username", password: "Password", signin: "Sign in",
      bad_login: "Wrong username or password.", locked: "Account locked. Try again later.",
      tab_alarms: "Alarms", tab_assist: "Assistance", tab_devices: "Devices", tab_history: "History",
      no_alarms: "No open alarms. All quiet.", no_assist: "Nobody is waiting for help.", no_kiosks: "No kiosk has reported yet.",
      sev_critical: "Critical", sev_major: "Major", sev_minor: "Minor", sev_info: "Info",
      st_active: "Active", st_acknowledged: "Acknowledged", st_pending: "Pending",
      stale: "Stale · kiosk offline", silenced: "Silenced", maintenance: "Maintenance", inhibited: "Inhibited", flapping: "Flapping",
      ack: "Acknowledge", clear: "Clear", silence: "Silence 1 h", confirm: "Confirm", cancel: "Cancel",
      comment: "Comment (what you are doing about it)", acked_by: "Acknowledged by {who}", since: "since {t}",
      times: "{n}×", store: "Store", approve: "Approve", refuse: "Refuse", sent: "Sent to the kiosk by {who}",
      refused_sent: "Refusal sent by {who}", at_kiosk: "Decide at the kiosk", waiting: "waiting {t}",
      lines: "{n} lines", total: "Total", online: "Online", offline_k: "Offline", unknown: "Unknown",
      last_seen: "Last seen", outbox: "Unsent sales", session: "Session", version: "Version", devices: "Devices",
      none: "—", ok_done: "Done", f_kiosk: "Kiosk", f_severity: "Severity", f_transition: "Event", f_since: "Since",
      any: "Any", search: "Search", no_history: "Nothing found.",
      tr_raised: "Raised", tr_acknowledged: "Acknowledged", tr_cleared: "Cleared", tr_resolved: "Resolved",
      tr_escalated: "Escalated", tr_flapping: "Flapping", tr_pending: "Pending", tr_discarded: "Discarded",
      tr_reoccurred: "Reoccurred", tr_ack_expired: "Ack expired", tr_flapping_ended: "Flapping ended", tr_announced: "Announced",
      ago_s: "just now", ago_m: "{n} min ago", ago_h: "{n} h ago", ago_d: "{n} d ago", dur_m: "{n} min", dur_s: "{n} s", dur_h: "{n} h",
      failed: "Failed: {why}", lang_btn: "中文",
      role_attendant: "attendant", role_supervisor: "supervisor", role_manager: "manager", role_owner: "owner"
    },
    zh: {
      title: "店员控制台", offline: "未连接", live: "实时", reconnecting: "正在重连…", logout: "退出",
      signin_title: "登录", username: "用户名", password: "密码", signin: "登录",
      bad_login: "用户名或密码错误。", locked: "账号已锁定，请稍后再试。",
      tab_alarms: "告警", tab_assist: "求助", tab_devices: "设备", tab_history: "历史",
      no_alarms: "没有未处理的告警。", no_assist: "没有顾客在等待帮助。", no_kiosks: "还没有收银机上报状态。",
      sev_critical: "严重", sev_major: "重要", sev_minor: "一般", sev_info: "提示",
      st_active: "告警中", st_acknowledged: "已确认", st_pending: "待定",
      stale: "过时 · 收银机离线", silenced: "已静音", maintenance: "维护中", inhibited: "已抑制", flapping: "频繁波动",
      ack: "确认", clear: "清除", silence: "静音1小时", confirm: "提交", cancel: "取消",
      comment: "备注（正在如何处理）", acked_by: "{who} 已确认", since: "开始于 {t}",
      times: "{n}次", store: "门店", approve: "批准", refuse: "拒绝", sent: "{who} 已发送至收银机",
      refused_sent: "{who} 已发送拒绝", at_kiosk: "需在收银机上处理", waiting: "已等待 {t}",
      lines: "{n} 行商品", total: "合计", online: "在线", offline_k: "离线", unknown: "未知",
      last_seen: "最后联系", outbox: "未上传销售", session: "会话", version: "版本", devices: "设备",
      none: "—", ok_done: "完成", f_kiosk: "收银机", f_severity: "级别", f_transition: "事件", f_since: "起始日期",
      any: "全部", search: "查询", no_history: "没有记录。",
      tr_raised: "告警", tr_acknowledged: "已确认", tr_cleared: "已恢复", tr_resolved: "已处理",
      tr_escalated: "已升级", tr_flapping: "频繁波动", tr_pending: "待定", tr_discarded: "已忽略",
      tr_reoccurred: "再次出现", tr_ack_expired: "确认过期", tr_flapping_ended: "停止波动", tr_announced: "已通知",
      ago_s: "刚刚", ago_m: "{n}分钟前", ago_h: "{n}小时前", ago_d: "{n}天前", dur_m: "{n}分钟", dur_s: "{n}秒", dur_h: "{n}小时",
      failed: "失败：{why}", lang_btn: "EN",
      role_attendant: "店员", role_supervisor: "主管", role_manager: "经理", role_owner: "店主"
    }
  };
  var BO = window.TillpiBackOffice || null;  /* the back-office pages (backoffice.js), loaded first */
  if (BO && BO.i18n) {
    Object.keys(BO.i18n).forEach(function (lang) {
      Object.keys(BO.i18n[lang]).forEach(function (k) { I18N[lang][k] = BO.i18n[lang][k]; });
    });
  }
  var DEVICES_ZH = { printer: "打印机", scanner: "扫码器", camera: "摄像头", scale: "秤", bag_scale: "装袋秤", drawer: "钱箱",
    kiosk: "收银机", assist: "求助", bagging: "装袋区", cpu: "处理器", disk: "磁盘", clock: "时钟", outbox: "待上传",
    ingest: "数据接收", ledger: "账本", light: "指示灯" };
  var SEV_ORDER = { critical: 0, major: 1, minor: 2, info: 3 };

  var S = { lang: localStorage.getItem("tillpi.lang") || "en", me: null, alarms: [], kiosks: {}, assist: [],
            skew: 0, es: null, tab: "alarms", ackOpen: {}, storeId: "", staff: {} };

  function $(id) { return document.getElementById(id); }
  function t(key, vars) {
    var s = (I18N[S.lang] && I18N[S.lang][key]) || I18N.en[key] || key;
    if (vars) { Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(vars[k]); }); }
    return s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function can(p) { return !!(S.me && S.me.permissions.indexOf(p) >= 0); }
  function now() { return Date.now() + S.skew; }
  function ago(iso) {
    if (!iso) return t("none");
    var s = Math.max(0, (now() - Date.parse(iso)) / 1000);
    if (s < 45) return t("ago_s");
    if (s < 3600) return t("ago_m", { n: Math.round(s / 60) });
    if (s < 86400) return t("ago_h", { n: Math.round(s / 3600) });
    return t("ago_d", { n: Math.round(s / 86400) });
  }
  function dur(iso) {
    var s = Math.max(0, (now() - Date.parse(iso)) / 1000);
    if (s < 60) return t("dur_s", { n: Math.round(s) });
    if (s < 3600) return t("dur_m", { n: Math.round(s / 60) });
    return t("dur_h", { n: Math.round(s / 3600) });
  }
  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleString(S.lang === "zh" ? "zh-CN" : "en-GB", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function money(minor, cur) {
    if (minor === null || minor === undefined) return t("none");
    var sign = minor < 0 ? "-" : ""; minor = Math.abs(minor);
    var sym = cur === "CNY" ? "¥" : (cur ? cur + " " : "");
    return sign + sym + Math.floor(minor / 100) + "." + String(minor % 100).padStart(2, "0");
  }
  function device(name) { return S.lang === "zh" ? (DEVICES_ZH[name] || name) : name.replace(/_/g, " "); }
  function who(id) { return (id && S.staff[id]) || id || ""; }
  function where(a) { return (a.kiosk_id || t("store")) + " · " + device(a.device); }

  function toast(text) {
    var box = $("toast");
    box.textContent = text; box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { showLogin(); throw new Error("unauthenticated"); }
      return r.text().then(function (txt) {
        var data = txt ? JSON.parse(txt) : null;
        if (!r.ok) {
          var d = data && data.detail; var why = (d && (d.detail || d.error)) || d || r.statusText;
          throw new Error(typeof why === "string" ? why : JSON.stringify(why));
        }
        return data;
      });
    });
  }
  function fail(err) { if (err.message !== "unauthenticated") toast(t("failed", { why: err.message })); }

  /* ---------- language ---------- */
  function applyLang() {
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach(function (e) { e.textContent = t(e.getAttribute("data-i18n")); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (e) { e.placeholder = t(e.getAttribute("data-i18n-placeholder")); });
    $("lang").textContent = t("lang_btn");
    document.title = "tillpi · " + t("title");
    setLive(S.es && S.es.readyState === 1 ? "on" : "off");
    if (S.me) showApp();
    renderAll(true);
    if (BO && S.me) BO.language();
  }

  /* ---------- sign-in ---------- */
  function showLogin() {
    if (S.es) { S.es.close(); S.es = null; }
    S.me = null;
    $("app").hidden = true; $("login").hidden = false; $("who").hidden = true; $("logout").hidden = true;
    if (BO) BO.signedOut();
    setLive("off");
    $("username").focus();
  }
  function showApp() {
    $("login").hidden = true; $("app").hidden = false;
    $("who").hidden = false; $("who").textContent = S.me.name + " · " + t("role_" + S.me.role);
    $("logout").hidden = false;
    $("store").textContent = S.storeId;
    if (BO) BO.signedIn(S.me);
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").hidden = true;
    fetch("/api/auth/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value.trim(), password: $("password").value }) })
      .then(function (r) {
        if (r.ok) { $("password").value = ""; boot(); return; }
        $("login-error").textContent = r.status === 423 ? t("locked") : t("bad_login");
        $("login-error").hidden = false;
      });
  });
  $("logout").addEventListener("click", function () {
    api("POST", "/api/auth/logout").catch(function () {}).then(showLogin);
  });
  $("lang").addEventListener("click", function () {
    S.lang = S.lang === "en" ? "zh" : "en";
    localStorage.setItem("tillpi.lang", S.lang);
    applyLang();
  });

  /* ---------- live feed ---------- */
  function setLive(state) {
    var box = $("live");
    box.className = "live " + (state === "on" ? "on" : "off");
    $("live-text").textContent = state === "on" ? t("live") : (state === "retry" ? t("reconnecting") : t("offline"));
    box.setAttribute("data-state", state);
  }
  function takeSnapshot(snap) {
    if (snap.at) S.skew = Date.parse(snap.at) - Date.now();
    S.alarms = snap.alarms || [];
    S.assist = snap.assistance || [];
    S.kiosks = {};
    (snap.kiosks || []).forEach(function (k) { S.kiosks[k.kiosk_id] = k; });
    renderAll(true);
  }
  function connect() {
    if (S.es) S.es.close();
    var es = new EventSource("/api/console/events");
    S.es = es;
    es.onopen = function () { setLive("on"); };
    es.onerror = function () {
      setLive("retry");
      if (es.readyState === 2) { // closed for good (e.g. signed out): check the session
        api("GET", "/api/auth/me").then(function () { setTimeout(connect, 2000); }).catch(function () {});
      }
    };
    es.onmessage = function (msg) {
      var ev = JSON.parse(msg.data);
      setLive("on");
      if (ev.type === "snapshot") takeSnapshot(ev);
      else if (ev.type === "alarms") { if (ev.at) S.skew = Date.parse(ev.at) - Date.now(); S.alarms = ev.alarms; renderAlarms(); renderKiosks(); }
      else if (ev.type === "kiosk") { S.kiosks[ev.kiosk.kiosk_id] = ev.kiosk; renderKiosks(); }
      else if (ev.type === "assistance") { S.assist = ev.requests; renderAssist(); }
      else if (ev.type === "notification") { toast(S.lang === "zh" ? ev.text_zh : ev.text_en); }
    };
  }
  function boot() {
    api("GET", "/api/console/snapshot").then(function (snap) {
      S.me = snap.me; S.storeId = snap.store_id || ""; S.staff = snap.staff || {}; S.today = snap.today || null; S.features = snap.features || [];
      showApp(); takeSnapshot(snap); connect();
    }).catch(function () {});
  }

  /* ---------- tabs ---------- */
  document.querySelectorAll(".tab[data-tab]").forEach(function (b) {
    b.addEventListener("click", function () { selectTab(b.getAttribute("data-tab")); });
  });
  function selectTab(name) {
    S.tab = name;
    document.querySelectorAll(".tab[data-tab]").forEach(function (b) { b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === name)); });
    document.querySelectorAll("#app > .panel").forEach(function (p) { p.hidden = p.id !== "panel-" + name; });
    if (name === "history" && !$("history").childElementCount) loadHistory();
    if (BO) BO.tabChanged(name);
  }

  /* ---------- alarms ---------- */
  function alarmSig(a) {
    return [a.id, a.revision, a.stale, a.suppressed, a.state, a.severity, S.lang, a.detail].join("|");
  }
  function buildAlarm(a) {
    var card = el("article", "card alarm sev-" + a.severity + (a.stale ? " is-stale" : ""));
    card.setAttribute("data-id", a.id); card.setAttribute("data-key", a.key); card.setAttribute("data-state", a.state);
    var head = el("div", "head");
    var left = el("div");
    left.appendChild(el("h2", "title", S.lang === "zh" ? a.label_zh : a.label_en));
    left.appendChild(el("p", "where", where(a)));
    head.appendChild(left);
    var chips = el("div", "chips");
    chips.appendChild(el("span", "chip sev-" + a.severity, t("sev_" + a.severity)));
    chips.appendChild(el("span", "chip state-" + a.state, t("st_" + a.state)));
    if (a.stale) chips.appendChild(el("span", "chip stale", t("stale")));
    else if (a.suppressed) chips.appendChild(el("span", "chip", t(a.suppressed)));
    if (a.flapping) chips.appendChild(el("span", "chip stale", t("flapping")));
    head.appendChild(chips);
    card.appendChild(head);
    if (a.detail) card.appendChild(el("p", "detail", a.detail));
    var meta = t("since", { t: ago(a.first_seen_at) });
    if (a.occurrences > 1) meta += " · " + t("times", { n: a.occurrences });
    if (a.acked_by) meta += " · " + t("acked_by", { who: who(a.acked_by) }) + (a.ack_comment ? ": “" + a.ack_comment + "”" : "");
    var m = el("p", "meta", meta); m.setAttribute("data-since", a.first_seen_at);
    card.appendChild(m);

    var actions = el("div", "actions");
    if (can("alarms.ack") && a.state === "active") {
      var ackBtn = el("button", "btn primary", t("ack")); ackBtn.type = "button"; ackBtn.setAttribute("data-action", "ack");
      ackBtn.addEventListener("click", function () { S.ackOpen[a.id] = S.ackOpen[a.id] || ""; renderAlarms(true); });
      actions.appendChild(ackBtn);
    }
    if (can("alarms.ack")) {
      var clr = el("button", "btn", t("clear")); clr.type = "button"; clr.setAttribute("data-action", "clear");
      clr.addEventListener("click", function () {
        api("POST", "/api/alarms/" + encodeURIComponent(a.id) + "/resolve", { comment: "" }).then(function () { toast(t("ok_done")); }).catch(fail);
      });
      actions.appendChild(clr);
    }
    if (can("alarms.silence") && !a.suppressed) {
      var sil = el("button", "btn", t("silence")); sil.type = "button"; sil.setAttribute("data-action", "silence");
      sil.addEventListener("click", function () {
        api("POST", "/api/alarms/" + encodeURIComponent(a.id) + "/silence", { minutes: 60, scope: "alarm" }).then(function () { toast(t("ok_done")); }).catch(fail);
      });
      actions.appendChild(sil);
    }
    if (actions.childElementCount) card.appendChild(actions);
    if (Object.prototype.hasOwnProperty.call(S.ackOpen, a.id)) {
      var box = el("form", "ackbox");
      var input = el("input"); input.placeholder = t("comment"); input.value = S.ackOpen[a.id]; input.maxLength = 500;
      input.setAttribute("aria-label", t("comment")); input.name = "comment";
      input.addEventListener("input", function () { S.ackOpen[a.id] = input.value; });
      var ok = el("button", "btn ok", t("confirm")); ok.type = "submit";
      var no = el("button", "btn", t("cancel")); no.type = "button";
      no.addEventListener("click", function () { delete S.ackOpen[a.id]; renderAlarms(true); });
      box.addEventListener("submit", function (ev) {
        ev.preventDefault();
        ok.disabled = true;
        api("POST", "/api/alarms/" + encodeURIComponent(a.id) + "/ack", { comment: input.value.trim() })
          .then(function () { delete S.ackOpen[a.id]; toast(t("ok_done")); renderAlarms(true); })
          .catch(function (e) { ok.disabled = false; fail(e); });
      });
      box.appendChild(input); box.appendChild(ok); box.appendChild(no);
      card.appendChild(box);
      card.setAttribute("data-ackbox", "1");
    }
    card._sig = alarmSig(a) + "|" + Object.prototype.hasOwnProperty.call(S.ackOpen, a.id);
    return card;
  }
  function renderAlarms(force) {
    var list = $("alarms");
    var sorted = S.alarms.slice().sort(function (x, y) {
      return (SEV_ORDER[x.severity] - SEV_ORDER[y.severity]) || (x.stale - y.stale) || (x.first_seen_at < y.first_seen_at ? -1 : 1);
    });
    var old = {};
    Array.prototype.forEach.call(list.children, function (c) { old[c.getAttribute("data-id")] = c; });
    var focused = document.activeElement;
    var frag = [];
    sorted.forEach(function (a) {
      var sig = alarmSig(a) + "|" + Object.prototype.hasOwnProperty.call(S.ackOpen, a.id);
      var node = old[a.id];
      if (!node || force === true && !(node.contains(focused)) || node._sig !== sig) node = buildAlarm(a);
      frag.push(node);
    });
    Object.keys(S.ackOpen).forEach(function (id) { if (!S.alarms.some(function (a) { return a.id === id; })) delete S.ackOpen[id]; });
    frag.forEach(function (n, i) { if (list.children[i] !== n) list.insertBefore(n, list.children[i] || null); });
    while (list.children.length > frag.length) list.removeChild(list.lastChild);
    var openBox = list.querySelector(".ackbox input");
    if (openBox && document.activeElement !== openBox && !(focused && list.contains(focused) && focused.tagName === "INPUT")) openBox.focus();
    $("alarms-empty").hidden = S.alarms.length > 0;
    var raised = S.alarms.filter(function (a) { return a.state === "active"; });
    $("n-alarms").textContent = S.alarms.length;
    $("n-alarms").className = "count" + (raised.some(function (a) { return a.severity === "critical" || a.severity === "major"; }) ? " hot" : "");
  }

  /* ---------- assistance ---------- */
  function renderAssist() {
    var list = $("assist");
    list.textContent = "";
    S.assist.forEach(function (r) {
      var card = el("article", "card assist");
      card.setAttribute("data-kiosk", r.kiosk_id); card.setAttribute("data-request", r.request_id || "");
      var head = el("div", "head");
      var left = el("div");
      left.appendChild(el("h2", "title", (S.lang === "zh" ? r.label_zh : r.label_en) + " · " + r.kiosk_id));
      left.appendChild(el("p", "where", t("waiting", { t: dur(r.requested_at) })));
      head.appendChild(left);
      card.appendChild(head);
      if (r.note) card.appendChild(el("p", "detail", r.note));
      if (r.lines !== null || r.items.length || r.total_minor !== null) {
        var basket = el("div", "basket");
        var line = [];
        if (r.lines !== null) line.push(t("lines", { n: r.lines }));
        if (r.total_minor !== null) line.push(t("total") + " " + money(r.total_minor, r.currency));
        basket.appendChild(el("div", "total", line.join(" · ")));
        if (r.items.length) {
          var ul = el("ul");
          r.items.forEach(function (it) { ul.appendChild(el("li", null, it.quantity + " × " + it.name)); });
          basket.appendChild(ul);
        }
        card.appendChild(basket);
      }
      if (r.decision) {
        card.appendChild(el("p", "sent", t(r.decision.approve ? "sent" : "refused_sent", { who: who(r.decision.by) })));
      } else if (r.remote && can(r.permission)) {
        var actions = el("div", "actions");
        [[true, "approve", "btn ok"], [false, "refuse", "btn danger"]].forEach(function (d) {
          var b = el("button", d[2], t(d[1])); b.type = "button"; b.setAttribute("data-action", d[1]);
          b.addEventListener("click", function () {
            b.disabled = true;
            api("POST", "/api/console/assistance/" + encodeURIComponent(r.kiosk_id) + "/" + encodeURIComponent(r.request_id) + "/decide",
                { approve: d[0], why: "" }).then(function () { toast(t("ok_done")); }).catch(function (e) { b.disabled = false; fail(e); });
          });
          actions.appendChild(b);
        });
        card.appendChild(actions);
      } else if (!r.remote) {
        card.appendChild(el("p", "meta", t("at_kiosk")));
      }
      list.appendChild(card);
    });
    $("assist-empty").hidden = S.assist.length > 0;
    $("n-assist").textContent = S.assist.length;
    $("n-assist").className = "count" + (S.assist.length ? " hot" : "");
  }

  /* ---------- devices ---------- */
  function renderKiosks() {
    var grid = $("kiosks");
    grid.textContent = "";
    var ids = Object.keys(S.kiosks).sort();
    ids.forEach(function (id) {
      var k = S.kiosks[id];
      var st = k.status === "online" ? "online" : (k.status === "offline" ? "offline" : "unknown");
      var card = el("article", "card kiosk" + (st === "offline" ? " is-offline" : ""));
      card.setAttribute("data-kiosk", id); card.setAttribute("data-status", st);
      var head = el("div", "head");
      head.appendChild(el("h3", null, id));
      head.appendChild(el("span", "chip " + st, t(st === "offline" ? "offline_k" : st)));
      card.appendChild(head);
      var dl = el("dl", "facts");
      var n = S.alarms.filter(function (a) { return a.kiosk_id === id; }).length;
      [[t("last_seen"), ago(k.last_seen)], [t("outbox"), k.outbox_pending === null ? t("none") : String(k.outbox_pending) + (k.oldest_pending_age_s ? " · " + Math.round(k.oldest_pending_age_s / 60) + " min" : "")],
       [t("tab_alarms"), String(n)], [t("version"), k.software_version || t("none")]].forEach(function (row) {
        dl.appendChild(el("dt", null, row[0])); dl.appendChild(el("dd", null, row[1]));
      });
      card.appendChild(dl);
      if (k.devices && k.devices.length) {
        var ul = el("ul", "devices");
        k.devices.forEach(function (d) {
          var li = el("li"); li.setAttribute("data-device", d.device); li.setAttribute("data-status", d.status);
          li.appendChild(el("span", "sdot " + d.status));
          li.appendChild(el("span", null, device(d.device)));
          if (d.status !== "ok") li.appendChild(el("span", "code", d.code || d.status));
          ul.appendChild(li);
        });
        card.appendChild(ul);
      }
      grid.appendChild(card);
    });
    $("kiosks-empty").hidden = ids.length > 0;
    $("n-devices").textContent = ids.filter(function (id) { return S.kiosks[id].status === "online"; }).length + "/" + ids.length;
  }

  /* ---------- history ---------- */
  function loadHistory() {
    var q = [];
    var kiosk = $("h-kiosk").value.trim(), sev = $("h-severity").value, tr = $("h-transition").value, since = $("h-since").value;
    if (kiosk) q.push("kiosk=" + encodeURIComponent(kiosk));
    if (sev) q.push("severity=" + sev);
    if (tr) q.push("transition=" + tr);
    if (since) q.push("since=" + encodeURIComponent(new Date(since + "T00:00:00").toISOString()));
    q.push("limit=200");
    api("GET", "/api/alarms/history?" + q.join("&")).then(function (rows) {
      var box = $("history");
      box.textContent = "";
      if (!rows.length) { box.appendChild(el("p", "empty", t("no_history"))); return; }
      rows.forEach(function (h) {
        var row = el("div", "hrow"); row.setAttribute("data-transition", h.transition);
        row.appendChild(el("span", "when", clock(h.at)));
        var what = el("span", "what");
        what.appendChild(el("b", null, t("tr_" + h.transition)));
        what.appendChild(document.createTextNode(" · " + (S.lang === "zh" ? h.label_zh : h.label_en) + " · " + (h.kiosk_id || t("store")) + " " + device(h.device)));
        if (h.comment) what.appendChild(document.createTextNode(" — " + h.comment));
        row.appendChild(what);
        row.appendChild(el("span", "who", who(h.who)));
        box.appendChild(row);
      });
    }).catch(fail);
  }
  $("history-form").addEventListener("submit", function (ev) { ev.preventDefault(); loadHistory(); });

  function renderAll(force) {
    if (!S.me) return;
    renderAlarms(force); renderAssist(); renderKiosks();
    if (S.tab === "history" && $("history").childElementCount) loadHistory();
  }
  setInterval(function () {  /* keep "since" and "waiting" fresh; never while someone types */
    if (!S.me) return;
    renderAssist(); renderKiosks();
    if (!Object.keys(S.ackOpen).length) renderAlarms(true);
  }, 15000);

  if (BO) {
    BO.init({ S: S, t: t, el: el, api: api, can: can, money: money, toast: toast, fail: fail, clock: clock, who: who,
              now: now, selectTab: selectTab });
  }
  applyLang();
  boot();
})();
