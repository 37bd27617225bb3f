/* tillpi staff console: the back office (catalogue, stock, members, promotions, staff, reports,
   refunds). Vanilla JS, no external code; charts are inline SVG. Loaded before console.js, which
   merges these strings into its dictionary and calls init() with its helpers. */
(function () {
  "use strict";

  var EN = {
    tab_backoffice: "Back office", bo_catalogue: "Catalogue", bo_stock: "Stock", bo_members: "Members",
    bo_promotions: "Promotions", bo_staff: "Staff", bo_reports: "Reports", bo_refunds: "Refunds",
    export_csv: "Export CSV", export_xlsx: "Export Excel", cat_search_ph: "Name, SKU, barcode or PLU",
    all_categories: "All categories", prev: "Previous", next: "Next", page_of: "{a}–{b} of {n}",
    import_title: "Import products from CSV or Excel",
    import_help: "Columns: sku, gtins, plu, name_en, name_zh, category, price, cost_price, tax_class, sold_by, min_age, active. Rows are checked first; nothing changes until you confirm.",
    choose_file: "Choose a file", recheck: "Check again", skip_invalid: "Import the valid rows only",
    confirm_import: "Confirm import", discard: "Discard", checking: "Checking the file…", importing: "Importing…",
    imp_summary: "{rows} rows · {valid} valid · {new} new · {upd} updated", imp_errors: "{n} rows need fixing",
    imp_ok: "Every row is fine.", imp_done: "Imported {n} products ({new} new, {upd} updated).",
    imp_fix_help: "Fix the cells marked in red, then check again.", row: "Row", column: "Column", problem: "Problem",
    sku: "SKU", name: "Name", category: "Category", barcode: "Barcode / PLU", price: "Price", cost: "Cost",
    edit_price: "Edit price", save: "Save", cancel: "Cancel", saved: "Saved.", no_results: "Nothing found.",
    inactive: "Inactive", by_weight: "per kg",
    st_levels: "Levels", st_expiring: "Expiring", st_reorder: "Reorder", st_orders: "Purchase orders", st_count: "Stocktake",
    filter_ph: "Filter by name or SKU", low_only: "Low stock only", on_hand: "On hand", reorder_point: "Reorder point",
    low: "Low", within_days: "Within days", refresh: "Refresh", lot: "Lot", expires: "Expires", days_left: "Days left",
    remaining: "Remaining", markdown: "Suggested markdown", expired: "Expired", today_w: "Today",
    on_order: "On order", sold_28: "Sold (28 days)", supplier: "Supplier", suggest: "Suggested order",
    ro_make_order: "Put the ticked lines on a purchase order", po_new: "New purchase order", add_line: "Add a line",
    po_create: "Create order", amount: "Amount", unit_cost: "Unit cost (¥)", ordered: "Ordered", received: "Received",
    outstanding: "Outstanding", receive: "Receive", receive_now: "Receive now", expiry: "Expiry",
    po_status_open: "Open", po_status_partial: "Partly received", po_status_received: "Received", po_status_cancelled: "Cancelled",
    po_title: "Order #{id} · {supplier}", expected_on: "Expected {d}", no_orders: "No purchase orders.",
    stc_open: "Open a count", stc_title: "Count #{id}", stc_status_open: "Open", stc_status_approved: "Approved",
    stc_status_cancelled: "Cancelled", code_ph: "Barcode, SKU or PLU", add: "Add", set_count: "Set count",
    scan_camera: "Scan with camera", scan_point: "Point the camera at the barcode.",
    scan_unavailable: "Camera scanning needs a browser with barcode detection (e.g. Chrome on Android). Type the code instead.",
    camera_denied: "The camera could not be opened: {why}. Type the code instead.",
    expected: "Expected", counted: "Counted", variance: "Variance", approve_count: "Approve and adjust stock",
    approved_by: "Approved by {who}", counted_ok: "{sku}: counted {n}", no_counts: "Nothing counted yet.",
    unknown_code: "No product with the code {code}.", total_variance: "Total variance",
    phone_ph: "Last 4 or more digits of the phone number", masked: "Masked", level: "Level", points: "Points",
    stored_value: "Stored value", rolling_spend: "Spend (12 months)", points_history: "Points history",
    sv_history: "Stored value history", top_up: "Top up", top_up_amount: "Amount (¥)", topped_up: "Topped up {paid} (bonus {bonus}). Balance {bal}.",
    mem_enrol: "Enrol a member", phone: "Phone", enrol: "Enrol", email: "E-mail", birthday: "Birthday",
    last_purchase: "Last purchase", when: "When", kind: "Kind", delta: "Change", balance: "Balance", ref: "Reference",
    need_digits: "Type at least 4 digits.",
    pr_new: "New promotion", pr_edit: "Promotion", pr_type: "Type", pr_id: "Code (no spaces)", name_en: "Name (English)",
    name_zh: "Name (Chinese)", pr_skus: "Products (SKUs, comma separated)", pr_categories: "Categories (codes)",
    pr_percent: "Percent off", pr_quantity: "Pieces in a group", pr_pay_for: "Pay for (pieces)", pr_price: "Price (¥)",
    pr_buy: "Buy", pr_get: "Get", pr_min_spend: "Minimum spend (¥)", pr_tiers: "Tiers: spend:save, e.g. 100:10, 200:25",
    pr_coupon: "Coupon code (optional)", pr_levels: "Member levels (optional)", pr_member_only: "Members only",
    pr_window: "When it runs (optional)", from_date: "From", to_date: "To", from_time: "From time", to_time: "To time",
    pt_percent_off: "Percent off", pt_multibuy: "Multibuy (3 for 2, 3 for ¥10)", pt_buy_x_get_y: "Buy X get Y",
    pt_spend_and_save: "Spend X save Y", pt_member_price: "Member price", pt_fixed_price: "Fixed price",
    pt_basket_percent_off: "Whole basket percent off", active: "Active", paused: "Paused", pause: "Pause",
    activate: "Activate", edit: "Edit", pr_preview: "Try a sample basket", member_level: "Member level",
    coupons: "Coupon codes", pv_with_draft: "Include the promotion being edited", preview: "Preview", quantity: "Qty",
    weight_g: "Grams", gross: "Gross", savings: "Savings", net: "Net", subtotal: "Subtotal", total: "Total",
    total_savings: "You save", coupon_rejected: "Coupon {code}: {why}", remove: "Remove", no_promotions: "No promotions yet.",
    wd: "Mon,Tue,Wed,Thu,Fri,Sat,Sun", sum_percent: "{p} off", sum_multibuy_pay: "{q} for the price of {p}",
    sum_multibuy_price: "{q} for {price}", sum_bxgy: "Buy {b} get {g} {p} off", sum_tiers: "Spend {t} save {s}",
    sum_price: "Price {price}", sum_min: "from {m}", everything: "everything", coupon: "Coupon {c}", members_only: "Members only",
    sf_me: "Me", clocked_in: "Clocked in", clocked_out: "Not clocked in", clock_in: "Clock in", clock_out: "Clock out",
    this_week: "This week", hours: "Hours", date: "Date", sf_accounts: "Accounts and roles", sf_add: "Add a staff member",
    role: "Role", create: "Create", username: "Username", password: "Password", sf_timesheets: "Timesheets", show: "Show",
    sf_audit: "Audit log", au_action_ph: "Action starts with, e.g. catalogue", actor: "Who", action: "Action",
    target: "Target", details: "Details", total_hours: "Total {h}", role_changed: "Role changed.", created: "Created.",
    rp_sales: "Sales", by_hour: "Hour", by_day: "Day", by_week: "Week", by_month: "Month", by_year: "Year", csv: "CSV",
    rp_breakdown: "Breakdown", by_category: "Category", by_product: "Product", by_payment: "Payment", by_kiosk: "Kiosk",
    rp_top: "Top sellers", rp_slow: "Slow sellers", rp_profit: "Expenses and profit", t_sales: "Sales", t_revenue: "Revenue",
    t_basket: "Average basket", t_margin: "Gross margin", t_units: "Pieces sold", revenue: "Revenue", count: "Sales",
    lines_n: "Lines", units: "Pieces", refunds_w: "Refunds", cogs: "Cost of goods", expenses: "Expenses", profit: "Profit",
    margin_pct: "Margin", amount_ph: "Amount, e.g. 120.00", note_ph: "Note", add_expense: "Add expense", note: "Note",
    z_title: "Z report (day close)", z_text: "Text", z_close: "Close the day", z_closed: "Day closed.", z_shop: "Shop",
    cash_m: "Cash", card_m: "Card", mobile_m: "Mobile", stored_value_m: "Stored value", points_m: "Points",
    no_sales: "No sales in this period.", hour_h: "{h}:00",
    receipt_ph: "Receipt code, e.g. kiosk-01-87", find: "Find", refund_to: "Refund to", to_original: "Original payment",
    to_stored: "Member's stored value", reason: "Reason", do_refund: "Refund", left: "Left", paid: "Paid",
    refund_done: "Refunded {total}: {how}", refund_none: "Tick at least one line.", sale_title: "Sale {kiosk} #{seq} · {date}",
    already_refunded: "Refunded before: {how}", member: "Member {id}", whole_line: "whole line"
  };
  var ZH = {
    tab_backoffice: "后台", bo_catalogue: "商品", bo_stock: "库存", bo_members: "会员", bo_promotions: "促销",
    bo_staff: "员工", bo_reports: "报表", bo_refunds: "退款",
    export_csv: "导出 CSV", export_xlsx: "导出 Excel", cat_search_ph: "名称、编码、条码或 PLU",
    all_categories: "全部分类", prev: "上一页", next: "下一页", page_of: "{a}–{b}，共 {n}",
    import_title: "从 CSV 或 Excel 导入商品",
    import_help: "列：sku、gtins、plu、name_en、name_zh、category、price、cost_price、tax_class、sold_by、min_age、active。先检查每一行，确认之前不会改动任何数据。",
    choose_file: "选择文件", recheck: "重新检查", skip_invalid: "只导入正确的行", confirm_import: "确认导入", discard: "放弃",
    checking: "正在检查文件…", importing: "正在导入…", imp_summary: "共 {rows} 行 · {valid} 行正确 · 新增 {new} · 更新 {upd}",
    imp_errors: "{n} 行需要修改", imp_ok: "所有行都正确。", imp_done: "已导入 {n} 个商品（新增 {new}，更新 {upd}）。",
    imp_fix_help: "修改标红的单元格，然后重新检查。", row: "行", column: "列", problem: "问题",
    sku: "编码", name: "名称", category: "分类", barcode: "条码 / PLU", price: "售价", cost: "进价",
    edit_price: "改价", save: "保存", cancel: "取消", saved: "已保存。", no_results: "没有找到。", inactive: "已停用", by_weight: "每公斤",
    st_levels: "库存量", st_expiring: "临期", st_reorder: "补货", st_orders: "采购单", st_count: "盘点",
    filter_ph: "按名称或编码筛选", low_only: "只看低库存", on_hand: "现有", reorder_point: "补货点", low: "低库存",
    within_days: "天数以内", refresh: "刷新", lot: "批号", expires: "到期", days_left: "剩余天数", remaining: "剩余数量",
    markdown: "建议折扣", expired: "已过期", today_w: "今天", on_order: "在途", sold_28: "近28天销量", supplier: "供应商",
    suggest: "建议订货", ro_make_order: "把勾选的行加入采购单", po_new: "新建采购单", add_line: "添加一行",
    po_create: "创建采购单", amount: "数量", unit_cost: "单价（元）", ordered: "订购", received: "已收",
    outstanding: "未到", receive: "收货", receive_now: "本次收货", expiry: "到期日",
    po_status_open: "待收货", po_status_partial: "部分收货", po_status_received: "已收货", po_status_cancelled: "已取消",
    po_title: "采购单 #{id} · {supplier}", expected_on: "预计 {d} 到货", no_orders: "没有采购单。",
    stc_open: "开始盘点", stc_title: "盘点 #{id}", stc_status_open: "进行中", stc_status_approved: "已审核",
    stc_status_cancelled: "已取消", code_ph: "条码、编码或 PLU", add: "累加", set_count: "设为此数",
    scan_camera: "用摄像头扫码", scan_point: "请将摄像头对准条码。",
    scan_unavailable: "此浏览器不支持摄像头识别条码（可用安卓版 Chrome），请手动输入。",
    camera_denied: "无法打开摄像头：{why}。请手动输入。",
    expected: "账面", counted: "实盘", variance: "差异", approve_count: "审核并调整库存", approved_by: "{who} 已审核",
    counted_ok: "{sku}：已盘 {n}", no_counts: "还没有盘点记录。", unknown_code: "没有条码为 {code} 的商品。",
    total_variance: "差异合计",
    phone_ph: "手机号后 4 位或更多", masked: "已隐藏", level: "等级", points: "积分", stored_value: "储值余额",
    rolling_spend: "近12个月消费", points_history: "积分记录", sv_history: "储值记录", top_up: "充值",
    top_up_amount: "金额（元）", topped_up: "已充值 {paid}（赠送 {bonus}），余额 {bal}。", mem_enrol: "登记新会员",
    phone: "手机", enrol: "登记", email: "邮箱", birthday: "生日", last_purchase: "最近消费", when: "时间", kind: "类型",
    delta: "变动", balance: "余额", ref: "单号", need_digits: "请至少输入 4 位数字。",
    pr_new: "新建促销", pr_edit: "促销", pr_type: "类型", pr_id: "代码（不含空格）", name_en: "英文名称", name_zh: "中文名称",
    pr_skus: "商品编码（逗号分隔）", pr_categories: "分类代码", pr_percent: "折扣百分比", pr_quantity: "每组件数",
    pr_pay_for: "只付几件", pr_price: "价格（元）", pr_buy: "买", pr_get: "送", pr_min_spend: "最低消费（元）",
    pr_tiers: "满减档位：满:减，例如 100:10, 200:25", pr_coupon: "优惠码（可选）", pr_levels: "会员等级（可选）",
    pr_member_only: "仅限会员", pr_window: "活动时间（可选）", from_date: "开始", to_date: "结束", from_time: "开始时间",
    to_time: "结束时间", pt_percent_off: "打折", pt_multibuy: "多件优惠（买三付二、三件10元）", pt_buy_x_get_y: "买X送Y",
    pt_spend_and_save: "满减", pt_member_price: "会员价", pt_fixed_price: "特价", pt_basket_percent_off: "整单折扣",
    active: "进行中", paused: "已暂停", pause: "暂停", activate: "启用", edit: "编辑", pr_preview: "用样例购物篮试算",
    member_level: "会员等级", coupons: "优惠码", pv_with_draft: "包含正在编辑的促销", preview: "试算", quantity: "数量",
    weight_g: "克", gross: "原价", savings: "优惠", net: "实付", subtotal: "小计", total: "合计", total_savings: "共优惠",
    coupon_rejected: "优惠码 {code}：{why}", remove: "删除", no_promotions: "还没有促销。", wd: "一,二,三,四,五,六,日",
    sum_percent: "{p} 折扣", sum_multibuy_pay: "{q} 件只付 {p} 件", sum_multibuy_price: "{q} 件 {price}",
    sum_bxgy: "买 {b} 送 {g}（{p} 折扣）", sum_tiers: "满 {t} 减 {s}", sum_price: "价格 {price}", sum_min: "满 {m}",
    everything: "全部商品", coupon: "优惠码 {c}", members_only: "仅限会员",
    sf_me: "我", clocked_in: "已上班打卡", clocked_out: "未打卡", clock_in: "上班打卡", clock_out: "下班打卡",
    this_week: "本周", hours: "工时", date: "日期", sf_accounts: "账号与角色", sf_add: "添加员工", role: "角色",
    create: "创建", username: "用户名", password: "密码", sf_timesheets: "考勤", show: "查看", sf_audit: "操作日志",
    au_action_ph: "操作前缀，例如 catalogue", actor: "操作人", action: "操作", target: "对象", details: "详情",
    total_hours: "合计 {h}", role_changed: "角色已修改。", created: "已创建。",
    rp_sales: "销售额", by_hour: "按小时", by_day: "按天", by_week: "按周", by_month: "按月", by_year: "按年", csv: "CSV",
    rp_breakdown: "分类统计", by_category: "分类", by_product: "商品", by_payment: "支付方式", by_kiosk: "收银机",
    rp_top: "畅销商品", rp_slow: "滞销商品", rp_profit: "费用与利润", t_sales: "销售笔数", t_revenue: "销售额",
    t_basket: "客单价", t_margin: "毛利", t_units: "售出件数", revenue: "销售额", count: "笔数", lines_n: "行数",
    units: "件数", refunds_w: "退款", cogs: "销售成本", expenses: "费用", profit: "利润", margin_pct: "毛利率",
    amount_ph: "金额，例如 120.00", note_ph: "备注", add_expense: "记一笔费用", note: "备注",
    z_title: "日结报表（Z 报表）", z_text: "文本", z_close: "日结", z_closed: "已日结。", z_shop: "门店",
    cash_m: "现金", card_m: "银行卡", mobile_m: "移动支付", stored_value_m: "储值", points_m: "积分",
    no_sales: "此期间没有销售。", hour_h: "{h}点",
    receipt_ph: "小票号，例如 kiosk-01-87", find: "查找", refund_to: "退到", to_original: "原支付方式",
    to_stored: "会员储值", reason: "原因", do_refund: "退款", left: "可退", paid: "已付",
    refund_done: "已退款 {total}：{how}", refund_none: "请至少勾选一行。", sale_title: "销售 {kiosk} #{seq} · {date}",
    already_refunded: "之前已退：{how}", member: "会员 {id}", whole_line: "整行"
  };

  var PAGES = {
    catalogue: { perm: null, feature: "catalogue" }, stock: { perm: null, feature: "stock" },
    members: { perm: "members.view", feature: "members" }, promotions: { perm: "promotions.edit", feature: "promotions" },
    staff: { perm: null, feature: null }, reports: { perm: "reports.view", feature: "reports" },
    refunds: { perm: "refunds.create", feature: "refunds" }
  };

  var C = null;          /* helpers from console.js */
  var B = { page: null, products: null, productsP: null, categories: null, suppliers: null, currency: "CNY",
            cat: { offset: 0, limit: 50, total: 0, editing: null }, imp: null, stockSub: "levels", stocktake: null,
            member: null, promoEditing: null, rpBy: "day", rpDim: "category", rpPBy: "month", staffRoles: null };

  function $(id) { return document.getElementById(id); }
  function t(k, v) { return C.t(k, v); }
  function el(tag, cls, text) { return C.el(tag, cls, text); }
  function zh() { return C.S.lang === "zh"; }
  function can(p) { return !p || C.can(p); }
  function m(minor, cur) { return C.money(minor, cur || B.currency); }
  function mo(obj) { return obj ? C.money(obj.minor, obj.currency) : t("none"); }
  function clear(node) { node.textContent = ""; return node; }
  function uid() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function todayIso() { return C.S.today || new Date(C.now()).toISOString().slice(0, 10); }
  function addDays(iso, n) {
    var d = new Date(iso + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10);
  }
  function pname(p) { return p ? (zh() ? p.name_zh : p.name_en) : ""; }
  function skuName(sku) { var p = B.products && B.products[sku]; return p ? pname(p) : ""; }
  function grams(g) {
    var sign = g < 0 ? "-" : ""; g = Math.abs(g);
    return sign + Math.floor(g / 1000) + "." + String(g % 1000).padStart(3, "0") + " kg";
  }
  function amountText(amount, sku) {
    var p = B.products && B.products[sku];
    return p && p.sold_by === "weight" ? grams(amount) : String(amount);
  }
  function pct(bp) { return (bp % 100 ? (bp / 100).toFixed(2).replace(/0+$/, "") : String(bp / 100)) + "%"; }
  /* "12.5" -> 1250 minor units, without floating point; NaN when not a price */
  function parseMoney(text) {
    var mm = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(String(text || ""));
    if (!mm) return NaN;
    return parseInt(mm[1], 10) * 100 + (mm[2] ? parseInt((mm[2] + "0").slice(0, 2), 10) : 0);
  }
  function majorText(minor) { return Math.floor(minor / 100) + "." + String(minor % 100).padStart(2, "0"); }
  function parseBp(text) { var v = parseMoney(text); return isNaN(v) ? NaN : v; } /* "12.5" % -> 1250 bp */
  function list(text) { return String(text || "").split(/[,，;\s]+/).map(function (x) { return x.trim(); }).filter(Boolean); }
  function methodName(k) { return t(k + "_m") === k + "_m" ? k : t(k + "_m"); }
  function btn(label, cls, onClick, attrs) {
    var b = el("button", "btn " + (cls || ""), label); b.type = "button";
    if (onClick) b.addEventListener("click", onClick);
    Object.keys(attrs || {}).forEach(function (k) { b.setAttribute(k, attrs[k]); });
    return b;
  }
  function input(attrs) {
    var i = document.createElement("input");
    Object.keys(attrs || {}).forEach(function (k) { i.setAttribute(k, attrs[k]); });
    return i;
  }
  /* a table: cols = [{h: header, v: function(row) -> text|Node, cls, num}] */
  function table(cols, rows, opts) {
    opts = opts || {};
    var wrap = el("div", "tablewrap");
    var tb = el("table", "grid-table" + (opts.cls ? " " + opts.cls : ""));
    var thead = el("thead"), tr = el("tr");
    cols.forEach(function (c) { var th = el("th", c.num ? "num" : null, c.h); tr.appendChild(th); });
    thead.appendChild(tr); tb.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (r, i) {
      var row = el("tr");
      if (opts.rowAttrs) { var at = opts.rowAttrs(r, i); Object.keys(at).forEach(function (k) { if (at[k] !== null) row.setAttribute(k, at[k]); }); }
      cols.forEach(function (c) {
        var td = el("td", (c.num ? "num" : "") + (c.cls ? " " + c.cls : ""));
        if (c.label !== false) td.setAttribute("data-label", c.h);
        var v = c.v(r, i);
        if (v instanceof Node) td.appendChild(v); else td.textContent = v === null || v === undefined ? "" : String(v);
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    tb.appendChild(body);
    wrap.appendChild(tb);
    if (!rows.length) wrap.appendChild(el("p", "empty", opts.empty || t("no_results")));
    return wrap;
  }
  function rawSend(method, path, body, type) {
    return fetch(path, { method: method, credentials: "same-origin", body: body,
                         headers: { "Content-Type": type || "application/octet-stream", "Accept": "application/json" } })
      .then(function (r) {
        return r.text().then(function (txt) {
          var data = null; try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = txt; }
          if (!r.ok) {
            var d = data && data.detail; var why = (d && (d.detail || d.error)) || d || r.statusText;
            throw new Error(typeof why === "string" ? why : JSON.stringify(why));
          }
          return data;
        });
      });
  }

  /* ---------------- shared data ---------------- */
  function loadProducts(force) {
    if (B.productsP && !force) return B.productsP;
    var all = {};
    function page(offset) {
      return C.api("GET", "/api/catalogue/products?limit=500&offset=" + offset).then(function (res) {
        res.items.forEach(function (p) { all[p.sku] = p; if (p.price) B.currency = p.price.currency; });
        if (offset + 500 < res.total) return page(offset + 500);
        B.products = all;
        return all;
      });
    }
    B.productsP = page(0).catch(function (e) { B.productsP = null; throw e; });
    return B.productsP;
  }
  function loadCategories() {
    if (B.categories) return Promise.resolve(B.categories);
    return C.api("GET", "/api/catalogue/categories").then(function (c) { B.categories = c; return c; });
  }
  function catName(code) {
    var c = (B.categories || []).filter(function (x) { return x.code === code; })[0];
    return c ? (zh() ? c.name_zh : c.name_en) : code;
  }
  function loadSuppliers() {
    return C.api("GET", "/api/stock/suppliers").then(function (s) { B.suppliers = s; return s; });
  }
  function supplierName(id) {
    var s = (B.suppliers || []).filter(function (x) { return x.id === id; })[0];
    return s ? s.name : (id === null || id === undefined ? t("none") : "#" + id);
  }

  /* ---------------- camera scanning (BarcodeDetector) ---------------- */
  function scanSupported() {
    return typeof window.BarcodeDetector === "function" && !!navigator.mediaDevices &&
      typeof navigator.mediaDevices.getUserMedia === "function";
  }
  function setupScan(buttonId, hintId, onCode) {
    var b = $(buttonId), hint = $(hintId);
    if (!scanSupported()) {
      b.disabled = true; b.setAttribute("data-unavailable", "true");
      hint.setAttribute("data-i18n", "scan_unavailable"); hint.textContent = t("scan_unavailable"); hint.hidden = false;
      return;
    }
    b.addEventListener("click", function () { openScanner(onCode, hint); });
  }
  var scanning = null;
  function closeScanner() {
    if (!scanning) return;
    scanning.stop = true;
    if (scanning.stream) scanning.stream.getTracks().forEach(function (tr) { tr.stop(); });
    scanning = null;
    $("scanner").hidden = true;
  }
  function openScanner(onCode, hint) {
    var detector;
    try { detector = new window.BarcodeDetector({ formats: ["ean_13", "ean_8", "upc_a", "upc_e", "code_128", "qr_code"] }); }
    catch (e) { detector = new window.BarcodeDetector(); }
    var video = $("scanner-video");
    scanning = { stop: false, stream: null };
    var mine = scanning;
    $("scanner-msg").textContent = t("scan_point");
    $("scanner").hidden = false;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false }).then(function (stream) {
      if (mine.stop) { stream.getTracks().forEach(function (tr) { tr.stop(); }); return; }
      mine.stream = stream; video.srcObject = stream;
      var p = video.play(); if (p && p.catch) p.catch(function () {});
      (function loop() {
        if (mine.stop) return;
        detector.detect(video).then(function (codes) {
          if (mine.stop) return;
          if (codes && codes.length && codes[0].rawValue) { closeScanner(); onCode(String(codes[0].rawValue)); return; }
          setTimeout(loop, 200);
        }).catch(function () { setTimeout(loop, 400); });
      })();
    }).catch(function (err) {
      closeScanner();
      hint.textContent = t("camera_denied", { why: err && err.name ? err.name : String(err) }); hint.hidden = false;
    });
  }

  /* ---------------- navigation ---------------- */
  function visiblePages() {
    var feats = C.S.features || [];
    return Object.keys(PAGES).filter(function (p) {
      var d = PAGES[p];
      return can(d.perm) && (!d.feature || feats.indexOf(d.feature) >= 0);
    });
  }
  function applyPerms() {
    document.querySelectorAll("[data-perm]").forEach(function (n) {
      if (!can(n.getAttribute("data-perm"))) n.setAttribute("data-denied", "true"); else n.removeAttribute("data-denied");
    });
  }
  function toggleMenu(open) {
    var menu = $("bo-menu");
    var show = open === undefined ? menu.hidden : open;
    menu.hidden = !show;
    $("bo-toggle").setAttribute("aria-expanded", String(show));
  }
  function openPage(name) {
    toggleMenu(false);
    C.selectTab(name);
  }
  function showPage(name) {
    B.page = name;
    $("bo-toggle").setAttribute("aria-selected", "true");
    $("bo-current").textContent = " · " + t("bo_" + name);
    ({ catalogue: catalogueShow, stock: stockShow, members: membersShow, promotions: promotionsShow, staff: staffShow,
       reports: reportsShow, refunds: refundsShow })[name]();
  }

  /* ================= catalogue ================= */
  function catalogueShow() {
    loadCategories().then(function (cats) {
      var sel = $("cat-category"), keep = sel.value;
      while (sel.options.length > 1) sel.remove(1);
      cats.forEach(function (c) { var o = el("option", null, zh() ? c.name_zh : c.name_en); o.value = c.code; sel.appendChild(o); });
      sel.value = keep;
      catSearch();
    }).catch(C.fail);
  }
  function catSearch() {
    var q = $("cat-q").value.trim(), cat = $("cat-category").value;
    var path = "/api/catalogue/products?limit=" + B.cat.limit + "&offset=" + B.cat.offset + "&q=" + encodeURIComponent(q) +
      (cat ? "&category=" + encodeURIComponent(cat) : "");
    C.api("GET", path).then(function (res) {
      B.cat.total = res.total;
      renderCatalogue(res.items);
    }).catch(C.fail);
  }
  function renderCatalogue(items) {
    var box = clear($("cat-results"));
    var editor = can("catalogue.edit");
    var cols = [
      { h: t("sku"), v: function (p) { return p.sku; }, cls: "mono" },
      { h: t("name"), v: function (p) {
        var d = el("div"); d.appendChild(el("div", "strong", pname(p)));
        d.appendChild(el("div", "muted small", zh() ? p.name_en : p.name_zh));
        if (!p.active) d.appendChild(el("span", "chip", t("inactive")));
        return d; } },
      { h: t("category"), v: function (p) { return catName(p.category); } },
      { h: t("barcode"), v: function (p) { return (p.gtins.map(function (g) { return g.replace(/^0+(?=\d{8,13}$)/, ""); }).join(" ") || "") + (p.plu ? " PLU " + p.plu : ""); }, cls: "mono small" },
      { h: t("price"), num: true, v: function (p) {
        if (B.cat.editing === p.sku) {
          var f = el("form", "price-edit"); f.setAttribute("data-sku", p.sku);
          var pi = input({ "inputmode": "decimal", "aria-label": t("price"), "class": "price-input", value: majorText(p.price.minor) });
          var ci = input({ "inputmode": "decimal", "aria-label": t("cost"), "class": "cost-input", value: p.cost_price ? majorText(p.cost_price.minor) : "" });
          f.appendChild(pi); f.appendChild(ci);
          var sv = el("button", "btn primary small", t("save")); sv.type = "submit"; f.appendChild(sv);
          f.appendChild(btn(t("cancel"), "small", function () { B.cat.editing = null; catSearch(); }));
          f.addEventListener("submit", function (ev) {
            ev.preventDefault();
            var price = parseMoney(pi.value), cost = ci.value.trim() ? parseMoney(ci.value) : null;
            if (isNaN(price) || (cost !== null && isNaN(cost))) { C.toast(t("failed", { why: t("price") + "?" })); return; }
            C.api("PATCH", "/api/console/catalogue/" + encodeURIComponent(p.sku) + "/price",
                  { price_minor: price, cost_minor: cost }).then(function () {
              B.cat.editing = null; C.toast(t("saved")); B.productsP = null; catSearch();
            }).catch(C.fail);
          });
          setTimeout(function () { pi.focus(); pi.select(); }, 0);
          return f;
        }
        return m(p.price.minor, p.price.currency) + (p.sold_by === "weight" ? " " + t("by_weight") : ""); } },
      { h: t("cost"), num: true, v: function (p) { return p.cost_price ? m(p.cost_price.minor, p.cost_price.currency) : t("none"); } }
    ];
    if (editor) cols.push({ h: "", label: false, v: function (p) {
      return B.cat.editing === p.sku ? "" : btn(t("edit_price"), "small", function () { B.cat.editing = p.sku; catSearch(); }, { "data-action": "edit-price" });
    } });
    box.appendChild(table(cols, items, { cls: "catalogue", rowAttrs: function (p) { return { "data-sku": p.sku }; } }));
    var a = B.cat.total ? B.cat.offset + 1 : 0, b = Math.min(B.cat.offset + B.cat.limit, B.cat.total);
    $("cat-page").textContent = t("page_of", { a: a, b: b, n: B.cat.total });
    $("cat-prev").disabled = B.cat.offset === 0;
    $("cat-next").disabled = B.cat.offset + B.cat.limit >= B.cat.total;
  }

  /* --- import: upload -> preview (row errors, fixable for CSV) -> confirm, with a progress bar --- */
  function parseCsv(text) {
    var rows = [], row = [], cell = "", q = false, i = 0;
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    for (; i < text.length; i++) {
      var ch = text[i];
      if (q) {
        if (ch === '"') { if (text[i + 1] === '"') { cell += '"'; i++; } else q = false; }
        else cell += ch;
      } else if (ch === '"') q = true;
      else if (ch === ",") { row.push(cell); cell = ""; }
      else if (ch === "\n" || ch === "\r") {
        if (ch === "\r" && text[i + 1] === "\n") i++;
        row.push(cell); rows.push(row); row = []; cell = "";
      } else cell += ch;
    }
    if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
    return rows;
  }
  function toCsv(rows) {
    return rows.map(function (r) {
      return r.map(function (c) { c = c === undefined ? "" : String(c); return /[",\r\n]/.test(c) ? '"' + c.replace(/"/g, '""') + '"' : c; }).join(",");
    }).join("\r\n") + "\r\n";
  }
  function setBar(done, total, phase) {
    var pctv = total > 0 ? Math.min(100, Math.floor(done * 100 / total)) : 0;
    $("imp-progress").hidden = false;
    $("imp-fill").style.width = pctv + "%";
    $("imp-bar").setAttribute("aria-valuenow", String(pctv));
    $("imp-pct").textContent = pctv + " %";
    if (phase) { $("imp-phase").textContent = t(phase); $("imp-progress").setAttribute("data-phase", phase); }
  }
  function track(job, phase) {
    var stopped = false;
    setBar(0, 1, phase);
    (function tick() {
      if (stopped) return;
      fetch("/api/catalogue/import/progress/" + job, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (p) {
        if (!stopped && p && p.total) setBar(p.done, p.total, phase);
        if (!stopped) setTimeout(tick, 120);
      }).catch(function () { if (!stopped) setTimeout(tick, 300); });
    })();
    return function finish() {   /* the last word is the server's: its final count */
      stopped = true;
      return fetch("/api/catalogue/import/progress/" + job, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (p) {
        if (p && p.total) setBar(p.done, p.total, phase); else setBar(1, 1, phase);
      });
    };
  }
  function importUpload(bytes, fmt) {
    var job = uid();
    $("imp-result").hidden = true;
    var finish = track(job, "checking");
    var type = fmt === "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
    return rawSend("POST", "/api/catalogue/import?format=" + fmt + "&job=" + job, bytes, type).then(function (preview) {
      return finish().then(function () { B.imp.preview = preview; renderPreview(); });
    }).catch(function (e) { finish(); C.fail(e); });
  }
  function renderPreview() {
    var pv = B.imp.preview;
    var sum = clear($("imp-summary"));
    sum.hidden = false;
    sum.appendChild(el("div", null, t("imp_summary", { rows: pv.total_rows, valid: pv.valid_rows, "new": pv.new_products, upd: pv.updated_products })));
    sum.appendChild(el("div", pv.error_count ? "bad strong" : "okmsg", pv.error_count ? t("imp_errors", { n: pv.error_count }) : t("imp_ok")));
    sum.setAttribute("data-errors", String(pv.error_count));
    var box = clear($("imp-errors"));
    box.hidden = !pv.error_count;
    if (pv.error_count) {
      box.appendChild(table([
        { h: t("row"), v: function (e) { return e.row; }, num: true },
        { h: t("column"), v: function (e) { return e.column; }, cls: "mono" },
        { h: t("problem"), v: function (e) { return e.message; } }
      ], pv.errors, { cls: "errors", rowAttrs: function (e) { return { "data-row": e.row, "data-column": e.column }; } }));
      if (B.imp.rows) box.appendChild(fixEditor(pv.errors));
    }
    $("imp-actions").hidden = false;
    $("imp-recheck").hidden = !(pv.error_count && B.imp.rows);
    $("imp-skip").checked = false;
    updateConfirm();
  }
  function fixEditor(errors) {
    var header = B.imp.rows[0];
    var byRow = {};
    errors.forEach(function (e) { if (e.row >= 2) (byRow[e.row] = byRow[e.row] || {})[e.column] = e.message; });
    var nums = Object.keys(byRow).map(Number).sort(function (a, b) { return a - b; });
    var wrap = el("div", "fix");
    wrap.appendChild(el("p", "muted small", t("imp_fix_help")));
    var tw = el("div", "tablewrap"), tb = el("table", "grid-table fix-table"), hr = el("tr");
    hr.appendChild(el("th", "num", t("row")));
    header.forEach(function (h) { hr.appendChild(el("th", null, h)); });
    var thead = el("thead"); thead.appendChild(hr); tb.appendChild(thead);
    var body = el("tbody");
    nums.forEach(function (n) {
      var data = B.imp.rows[n - 1] || [];
      var tr = el("tr"); tr.setAttribute("data-row", n);
      tr.appendChild(el("td", "num", String(n)));
      header.forEach(function (h, ci) {
        var td = el("td"), msg = byRow[n][h.trim().toLowerCase()];
        var inp = input({ value: data[ci] || "", "data-col": h.trim().toLowerCase(), "aria-label": h + " " + n });
        if (msg) { td.className = "bad-cell"; inp.title = msg; }
        inp.addEventListener("input", function () { while (data.length <= ci) data.push(""); data[ci] = inp.value; B.imp.rows[n - 1] = data; });
        td.appendChild(inp); tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    tb.appendChild(body); tw.appendChild(tb); wrap.appendChild(tw);
    return wrap;
  }
  function updateConfirm() {
    var pv = B.imp && B.imp.preview;
    $("imp-confirm").disabled = !pv || (pv.error_count > 0 && !$("imp-skip").checked) || pv.valid_rows === 0;
  }
  function importConfirm() {
    var pv = B.imp.preview, job = uid();
    $("imp-confirm").disabled = true;
    var finish = track(job, "importing");
    C.api("POST", "/api/catalogue/import/" + encodeURIComponent(pv.token) + "/confirm?job=" + job +
          ($("imp-skip").checked ? "&skip_invalid=true" : "")).then(function (res) {
      return finish().then(function () {
        var r = $("imp-result");
        r.textContent = t("imp_done", { n: res.imported, "new": res.new_products, upd: res.updated_products });
        r.hidden = false;
        $("imp-actions").hidden = true; $("imp-errors").hidden = true;
        B.imp = null; B.productsP = null; $("imp-file").value = "";
        catSearch();
      });
    }).catch(function (e) { finish(); updateConfirm(); C.fail(e); });
  }
  function importReset() {
    B.imp = null;
    ["imp-summary", "imp-errors", "imp-actions", "imp-progress", "imp-result"].forEach(function (id) { $(id).hidden = true; });
    $("imp-file").value = "";
  }

  /* ================= stock ================= */
  function stockShow() {
    document.querySelectorAll("#stock-seg button").forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-sub") === B.stockSub)); });
    document.querySelectorAll("#panel-stock .sub").forEach(function (s) { s.hidden = s.getAttribute("data-sub") !== B.stockSub; });
    Promise.all([loadProducts(), loadSuppliers()]).then(function () {
      ({ levels: levelsLoad, expiring: expiringLoad, reorder: reorderLoad, orders: ordersLoad, count: countLoad })[B.stockSub]();
    }).catch(C.fail);
  }
  function levelsLoad() {
    Promise.all([C.api("GET", "/api/stock/levels"), C.api("GET", "/api/stock/levels/low")]).then(function (r) {
      var low = {};
      r[1].forEach(function (l) { low[l.sku] = l.reorder_point; });
      B.levels = r[0].map(function (l) { return { sku: l.sku, amount: l.amount, measure: l.measure, point: low[l.sku], low: l.sku in low }; });
      var seen = {};
      B.levels.forEach(function (l) { seen[l.sku] = 1; });
      r[1].forEach(function (l) {   /* never moved: no level row, but low all the same */
        if (!seen[l.sku]) B.levels.push({ sku: l.sku, amount: l.amount, measure: l.measure, point: l.reorder_point, low: true });
      });
      B.levels.sort(function (a, b) { return (b.low - a.low) || (a.sku < b.sku ? -1 : 1); });
      renderLevels();
    }).catch(C.fail);
  }
  function renderLevels() {
    var f = $("lv-filter").value.trim().toLowerCase(), lowOnly = $("lv-low").checked;
    var rows = (B.levels || []).filter(function (l) {
      if (lowOnly && !l.low) return false;
      if (!f) return true;
      var p = B.products[l.sku];
      return l.sku.toLowerCase().indexOf(f) >= 0 || (p && (p.name_en.toLowerCase().indexOf(f) >= 0 || p.name_zh.indexOf(f) >= 0));
    });
    var box = clear($("lv-table"));
    box.appendChild(table([
      { h: t("sku"), v: function (l) { return l.sku; }, cls: "mono" },
      { h: t("name"), v: function (l) { return skuName(l.sku); } },
      { h: t("on_hand"), num: true, v: function (l) { return l.measure === "grams" ? grams(l.amount) : String(l.amount); } },
      { h: t("reorder_point"), num: true, v: function (l) { return l.point === undefined ? "" : amountText(l.point, l.sku); } },
      { h: "", v: function (l) { return l.low ? el("span", "chip warn", t("low")) : ""; } }
    ], rows, { cls: "levels", rowAttrs: function (l) { return { "data-sku": l.sku, "class": l.low ? "is-low" : null }; } }));
  }
  function expiringLoad() {
    var days = parseInt($("ex-days").value, 10); if (isNaN(days)) days = 7;
    C.api("GET", "/api/stock/expiring?within_days=" + days).then(function (rows) {
      clear($("ex-table")).appendChild(table([
        { h: t("sku"), v: function (b) { return b.sku; }, cls: "mono" },
        { h: t("name"), v: function (b) { return skuName(b.sku); } },
        { h: t("lot"), v: function (b) { return b.lot || t("none"); } },
        { h: t("expires"), v: function (b) { return b.expires_on; } },
        { h: t("days_left"), num: true, v: function (b) { return b.expired ? el("span", "chip bad", t("expired")) : (b.days_left === 0 ? t("today_w") : String(b.days_left)); } },
        { h: t("remaining"), num: true, v: function (b) { return amountText(b.remaining, b.sku); } },
        { h: t("markdown"), v: function (b) {
          if (b.markdown_percent === null) return t("none");
          var d = el("span"); d.appendChild(el("span", "chip warn", "-" + b.markdown_percent + "%"));
          if (b.markdown_price) d.appendChild(document.createTextNode(" " + mo(b.markdown_price)));
          return d; } }
      ], rows, { rowAttrs: function (b) { return { "data-sku": b.sku, "data-batch": b.batch_id }; } }));
    }).catch(C.fail);
  }
  function reorderLoad() {
    C.api("GET", "/api/stock/reorder").then(function (rows) {
      rows = rows.filter(function (s) { return s.quantity > 0; });
      B.reorder = rows;
      clear($("ro-table")).appendChild(table([
        { h: "", label: false, v: function (s, i) { var c = input({ type: "checkbox", "data-i": i, "aria-label": s.sku }); c.className = "ro-pick"; return c; } },
        { h: t("sku"), v: function (s) { return s.sku; }, cls: "mono" },
        { h: t("name"), v: function (s) { return skuName(s.sku); } },
        { h: t("on_hand"), num: true, v: function (s) { return amountText(s.on_hand, s.sku); } },
        { h: t("on_order"), num: true, v: function (s) { return amountText(s.on_order, s.sku); } },
        { h: t("sold_28"), num: true, v: function (s) { return amountText(s.sold_last_28_days, s.sku); } },
        { h: t("reorder_point"), num: true, v: function (s) { return amountText(s.reorder_point, s.sku); } },
        { h: t("supplier"), v: function (s) { return supplierName(s.supplier_id); } },
        { h: t("suggest"), num: true, v: function (s) { return el("b", null, amountText(s.quantity, s.sku)); } }
      ], rows, { rowAttrs: function (s) { return { "data-sku": s.sku }; } }));
    }).catch(C.fail);
  }
  function poLine(sku, amount, cost) {
    var row = el("div", "line");
    var s = input({ placeholder: t("sku"), value: sku || "", "class": "po-sku", "aria-label": t("sku"), list: "bo-skus" });
    var a = input({ type: "number", min: "1", placeholder: t("amount"), value: amount || "", "class": "po-amount", "aria-label": t("amount") });
    var c = input({ inputmode: "decimal", placeholder: t("unit_cost"), value: cost === undefined || cost === null ? "" : majorText(cost), "class": "po-cost", "aria-label": t("unit_cost") });
    row.appendChild(s); row.appendChild(a); row.appendChild(c);
    row.appendChild(btn("×", "small", function () { row.remove(); }, { "aria-label": t("remove") }));
    $("po-lines").appendChild(row);
  }
  function fillSuppliers(sel) {
    clear(sel);
    (B.suppliers || []).forEach(function (s) { var o = el("option", null, s.name); o.value = s.id; sel.appendChild(o); });
  }
  function ordersLoad() {
    fillSuppliers($("po-supplier"));
    if (!$("po-lines").childElementCount) poLine();
    C.api("GET", "/api/stock/purchase-orders").then(function (orders) {
      var box = clear($("po-list"));
      if (!orders.length) box.appendChild(el("p", "empty", t("no_orders")));
      orders.slice().reverse().forEach(function (o) { box.appendChild(orderCard(o)); });
    }).catch(C.fail);
  }
  function orderCard(o) {
    var card = el("article", "card po"); card.setAttribute("data-po", o.id); card.setAttribute("data-status", o.status);
    var head = el("div", "head");
    var left = el("div"); left.appendChild(el("h3", "title", t("po_title", { id: o.id, supplier: supplierName(o.supplier_id) })));
    left.appendChild(el("p", "muted small", [o.note, o.expected_on ? t("expected_on", { d: o.expected_on }) : "", mo(o.total_cost)].filter(Boolean).join(" · ")));
    head.appendChild(left);
    head.appendChild(el("span", "chip po-" + o.status, t("po_status_" + o.status) === "po_status_" + o.status ? o.status : t("po_status_" + o.status)));
    card.appendChild(head);
    var open = can("stock.adjust") && (o.status === "open" || o.status === "partial");
    var cols = [
      { h: t("sku"), v: function (l) { return l.sku; }, cls: "mono" },
      { h: t("name"), v: function (l) { return skuName(l.sku); } },
      { h: t("ordered"), num: true, v: function (l) { return amountText(l.ordered, l.sku); } },
      { h: t("received"), num: true, v: function (l) { return amountText(l.received, l.sku); } },
      { h: t("outstanding"), num: true, v: function (l) { return amountText(l.outstanding, l.sku); } }
    ];
    if (open) {
      cols.push({ h: t("receive_now"), v: function (l) { return input({ type: "number", min: "0", value: l.outstanding, "class": "rc-amount", "data-sku": l.sku, "aria-label": t("receive_now") + " " + l.sku }); } });
      cols.push({ h: t("lot"), v: function (l) { return input({ "class": "rc-lot", "data-sku": l.sku, "aria-label": t("lot") }); } });
      cols.push({ h: t("expiry"), v: function (l) { return input({ type: "date", "class": "rc-exp", "data-sku": l.sku, "aria-label": t("expiry") }); } });
    }
    card.appendChild(table(cols, o.lines, { rowAttrs: function (l) { return { "data-sku": l.sku }; } }));
    if (open) {
      var acts = el("div", "actions");
      acts.appendChild(btn(t("receive"), "primary", function () {
        var lines = [];
        card.querySelectorAll("tr[data-sku]").forEach(function (tr) {
          var sku = tr.getAttribute("data-sku"), a = tr.querySelector(".rc-amount");
          if (!a) return;
          var n = parseInt(a.value, 10);
          if (n > 0) lines.push({ sku: sku, amount: n, lot: tr.querySelector(".rc-lot").value.trim(), expires_on: tr.querySelector(".rc-exp").value || null });
        });
        if (!lines.length) return;
        C.api("POST", "/api/stock/purchase-orders/" + o.id + "/receipts", { lines: lines }).then(function () { C.toast(t("saved")); ordersLoad(); }).catch(C.fail);
      }, { "data-action": "receive" }));
      card.appendChild(acts);
    }
    return card;
  }
  function countLoad() {
    C.api("GET", "/api/stock/stocktakes").then(function (takes) {
      var box = clear($("stc-list"));
      takes.slice().reverse().slice(0, 8).forEach(function (s) {
        var b = btn(t("stc_title", { id: s.id }) + " · " + t("stc_status_" + s.status), "small" + (B.stocktake === s.id ? " primary" : ""), function () { B.stocktake = s.id; countLoad(); }, { "data-stocktake": s.id });
        box.appendChild(b);
      });
      if (B.stocktake === null || B.stocktake === undefined) {
        var open = takes.filter(function (s) { return s.status === "open"; }).pop();
        if (open) B.stocktake = open.id;
      }
      if (B.stocktake) showStocktake(); else $("stc-current").hidden = true;
    }).catch(C.fail);
  }
  function showStocktake() {
    var id = B.stocktake;
    Promise.all([C.api("GET", "/api/stock/stocktakes/" + id), C.api("GET", "/api/stock/stocktakes/" + id + "/variance")]).then(function (r) {
      var st = r[0], lines = r[1];
      var sec = $("stc-current"); sec.hidden = false; sec.setAttribute("data-stocktake", id); sec.setAttribute("data-status", st.status);
      $("stc-title").textContent = t("stc_title", { id: id }) + " · " + t("stc_status_" + st.status) +
        (st.approved_by ? " · " + t("approved_by", { who: C.who(st.approved_by) }) : "");
      var open = st.status === "open";
      $("stc-form").hidden = !open || !can("stock.adjust");
      $("stc-approve").hidden = !open || !can("stock.adjust") || !lines.length;
      var total = 0;
      lines.forEach(function (l) { total += l.variance; });
      var box = clear($("stc-variance"));
      box.appendChild(table([
        { h: t("sku"), v: function (l) { return l.sku; }, cls: "mono" },
        { h: t("name"), v: function (l) { return skuName(l.sku); } },
        { h: t("expected"), num: true, v: function (l) { return amountText(l.expected, l.sku); } },
        { h: t("counted"), num: true, v: function (l) { return amountText(l.counted, l.sku); } },
        { h: t("variance"), num: true, v: function (l) { return el("b", l.variance < 0 ? "neg" : (l.variance > 0 ? "pos" : "zero"), (l.variance > 0 ? "+" : "") + amountText(l.variance, l.sku)); } }
      ], lines, { cls: "variance", empty: t("no_counts"), rowAttrs: function (l) { return { "data-sku": l.sku, "data-variance": l.variance, "data-counted": l.counted }; } }));
    }).catch(C.fail);
  }
  function resolveCode(code) {
    if (B.products && B.products[code]) return Promise.resolve(code);
    return C.api("GET", "/api/catalogue/products?limit=5&q=" + encodeURIComponent(code)).then(function (res) {
      var exact = res.items.filter(function (p) {
        return p.sku === code || p.plu === code || p.gtins.some(function (g) { return g.replace(/^0+/, "") === code.replace(/^0+/, ""); });
      });
      if (exact.length === 1) return exact[0].sku;
      if (res.items.length === 1) return res.items[0].sku;
      throw new Error(t("unknown_code", { code: code }));
    });
  }
  function countSubmit(add) {
    var code = $("stc-code").value.trim(), qty = parseInt($("stc-qty").value, 10);
    if (!code || isNaN(qty) || qty < 0) return;
    resolveCode(code).then(function (sku) {
      var p = B.products[sku];
      var amount = p && p.sold_by === "weight" ? qty : qty;
      return C.api("POST", "/api/stock/stocktakes/" + B.stocktake + "/counts", { sku: sku, amount: amount, add: add });
    }).then(function (res) {
      C.toast(t("counted_ok", { sku: res.sku, n: res.counted }));
      $("stc-code").value = ""; $("stc-qty").value = "1"; $("stc-code").focus();
      showStocktake();
    }).catch(C.fail);
  }

  /* ================= members ================= */
  function membersShow() { if (B.member) memberDetail(B.member); }
  function memberSearch() {
    var digits = $("mem-phone").value.replace(/\D/g, "");
    if (digits.length < 4) { C.toast(t("need_digits")); return; }
    C.api("GET", "/api/members?phone=" + digits).then(function (found) {
      var box = clear($("mem-results"));
      if (!found.length) box.appendChild(el("p", "empty", t("no_results")));
      found.forEach(function (mbr) {
        var card = el("button", "card member-card"); card.type = "button"; card.setAttribute("data-member", mbr.id);
        var l = el("div"); l.appendChild(el("div", "strong", mbr.name));
        var ph = el("div", "mono phone", mbr.phone); ph.setAttribute("data-masked", String(mbr.phone_masked)); l.appendChild(ph);
        card.appendChild(l);
        var chips = el("div", "chips");
        chips.appendChild(el("span", "chip level-" + mbr.level, mbr.level));
        if (mbr.phone_masked) chips.appendChild(el("span", "chip", t("masked")));
        card.appendChild(chips);
        card.addEventListener("click", function () { B.member = mbr.id; memberDetail(mbr.id); });
        box.appendChild(card);
      });
    }).catch(C.fail);
  }
  function memberDetail(id) {
    Promise.all([C.api("GET", "/api/members/" + id), C.api("GET", "/api/members/" + id + "/points?limit=20"),
                 C.api("GET", "/api/members/" + id + "/stored-value?limit=20")]).then(function (r) {
      var mbr = r[0], pts = r[1], sv = r[2];
      var sec = clear($("mem-detail")); sec.hidden = false; sec.setAttribute("data-member", id);
      var head = el("div", "head");
      var l = el("div"); l.appendChild(el("h3", "title", mbr.name + " · " + mbr.id));
      var ph = el("p", "mono phone", mbr.phone + (mbr.email ? " · " + mbr.email : "") + (mbr.birthday ? " · " + mbr.birthday : ""));
      ph.setAttribute("data-masked", String(mbr.phone_masked)); l.appendChild(ph);
      head.appendChild(l);
      head.appendChild(el("span", "chip level-" + mbr.level, t("level") + " " + mbr.level));
      sec.appendChild(head);
      var tiles = el("div", "tiles");
      [[t("points"), String(mbr.points_balance), "points"], [t("stored_value"), mo(mbr.stored_value_balance), "sv"],
       [t("rolling_spend"), mo(mbr.rolling_spend), "spend"], [t("last_purchase"), mbr.last_purchase_at ? C.clock(mbr.last_purchase_at) : t("none"), "last"]]
        .forEach(function (x) { tiles.appendChild(tile(x[0], x[1], x[2])); });
      sec.appendChild(tiles);
      if (can("members.top_up")) {
        var f = el("form", "searchbar topup");
        var amt = input({ inputmode: "decimal", placeholder: t("top_up_amount"), "aria-label": t("top_up_amount"), id: "tu-amount" });
        var go = el("button", "btn primary", t("top_up")); go.type = "submit";
        f.appendChild(amt); f.appendChild(go);
        f.addEventListener("submit", function (ev) {
          ev.preventDefault();
          var v = parseMoney(amt.value);
          if (isNaN(v) || v <= 0) { C.toast(t("failed", { why: t("top_up_amount") })); return; }
          go.disabled = true;
          C.api("POST", "/api/members/" + id + "/top-ups", { amount: majorText(v), ref: "console-" + uid() }).then(function (res) {
            C.toast(t("topped_up", { paid: mo(res.paid), bonus: mo(res.bonus), bal: mo(res.balance) }));
            memberDetail(id);
          }).catch(function (e) { go.disabled = false; C.fail(e); });
        });
        sec.appendChild(f);
      }
      var two = el("div", "two");
      var a = el("div"); a.appendChild(el("h4", null, t("points_history")));
      a.appendChild(table([
        { h: t("when"), v: function (e) { return C.clock(e.at); } }, { h: t("kind"), v: function (e) { return e.kind; } },
        { h: t("delta"), num: true, v: function (e) { return (e.points > 0 ? "+" : "") + e.points; } },
        { h: t("ref"), v: function (e) { return e.ref || e.detail || ""; }, cls: "small muted" }
      ], pts.entries, { cls: "points" }));
      var b = el("div"); b.appendChild(el("h4", null, t("sv_history")));
      b.appendChild(table([
        { h: t("when"), v: function (e) { return C.clock(e.at); } }, { h: t("kind"), v: function (e) { return e.kind; } },
        { h: t("delta"), num: true, v: function (e) { return (e.delta.minor > 0 ? "+" : "") + mo(e.delta); } },
        { h: t("balance"), num: true, v: function (e) { return mo(e.balance_after); } }
      ], sv.entries, { cls: "stored-value" }));
      two.appendChild(a); two.appendChild(b);
      sec.appendChild(two);
    }).catch(C.fail);
  }
  function tile(label, value, key) {
    var d = el("div", "tile"); if (key) d.setAttribute("data-tile", key);
    d.appendChild(el("div", "tile-label", label)); d.appendChild(el("div", "tile-value", value));
    return d;
  }

  /* ================= promotions ================= */
  var TYPE_FIELDS = ["percent_off", "multibuy", "buy_x_get_y", "spend_and_save", "member_price", "fixed_price", "basket_percent_off"];
  function promotionsShow() {
    weekdayBoxes();
    loadProducts().then(function () {
      if (!$("pv-lines").childElementCount) { pvLine("noodles", 3); pvLine("tea-500", 2); }
    }).catch(function () {});
    promoList();
  }
  function weekdayBoxes() {
    var box = clear($("pr-weekdays"));
    t("wd").split(",").forEach(function (d, i) {
      var l = el("label", "check"); var c = input({ type: "checkbox", value: String(i + 1), "data-wd": String(i + 1) });
      if (B.promoWeekdays && B.promoWeekdays.indexOf(i + 1) >= 0) c.checked = true;
      c.addEventListener("change", function () { B.promoWeekdays = checkedWeekdays(); });
      l.appendChild(c); l.appendChild(document.createTextNode(" " + d)); box.appendChild(l);
    });
  }
  function checkedWeekdays() {
    var out = [];
    document.querySelectorAll("#pr-weekdays input:checked").forEach(function (c) { out.push(parseInt(c.value, 10)); });
    return out;
  }
  function promoSummary(p) {
    var scope = (p.skus || []).map(function (s) { return skuName(s) || s; }).concat((p.categories || []).map(catName)).join(", ");
    var s;
    switch (p.type) {
      case "percent_off": s = t("sum_percent", { p: pct(p.percent_bp) }); break;
      case "basket_percent_off": s = t("sum_percent", { p: pct(p.percent_bp) }) + (p.min_spend ? " " + t("sum_min", { m: mo(p.min_spend) }) : ""); scope = t("everything"); break;
      case "multibuy": s = p.pay_for ? t("sum_multibuy_pay", { q: p.quantity, p: p.pay_for }) : t("sum_multibuy_price", { q: p.quantity, price: mo(p.price) }); break;
      case "buy_x_get_y": s = t("sum_bxgy", { b: p.buy, g: p.get, p: pct(p.percent_bp) }); break;
      case "spend_and_save": s = (p.tiers || []).map(function (x) { return t("sum_tiers", { t: mo(x.threshold), s: mo(x.saving) }); }).join("; "); scope = t("everything"); break;
      default: s = t("sum_price", { price: mo(p.price) });
    }
    var bits = [s];
    if (scope) bits.push(scope);
    if (p.coupon_code) bits.push(t("coupon", { c: p.coupon_code }));
    if (p.member_only) bits.push(t("members_only") + (p.member_levels && p.member_levels.length ? " (" + p.member_levels.join(", ") + ")" : ""));
    if (p.window) {
      var w = p.window, ws = [];
      if (w.start_date || w.end_date) ws.push((w.start_date || "…") + " → " + (w.end_date || "…"));
      if (w.weekdays && w.weekdays.length) { var names = t("wd").split(","); ws.push(w.weekdays.map(function (d) { return names[d - 1]; }).join(" ")); }
      if (w.start_time) ws.push(w.start_time.slice(0, 5) + "–" + w.end_time.slice(0, 5));
      bits.push(ws.join(" · "));
    }
    return bits.join(" · ");
  }
  function promoList() {
    Promise.all([C.api("GET", "/api/promotions"), loadProducts().catch(function () { return {}; }), loadCategories()]).then(function (r) {
      var box = clear($("pr-list"));
      var items = r[0].promotions;
      if (!items.length) box.appendChild(el("p", "empty", t("no_promotions")));
      items.forEach(function (sp) {
        var p = sp.promotion;
        var card = el("article", "card promo" + (sp.active ? "" : " is-paused")); card.setAttribute("data-promotion", p.promotion_id);
        var head = el("div", "head");
        var l = el("div"); l.appendChild(el("h3", "title", zh() ? p.name_zh : p.name_en));
        l.appendChild(el("p", "muted small", t("pt_" + p.type) + " · " + p.promotion_id));
        head.appendChild(l);
        head.appendChild(el("span", "chip " + (sp.active ? "online" : "unknown"), sp.active ? t("active") : t("paused")));
        card.appendChild(head);
        card.appendChild(el("p", "detail", promoSummary(p)));
        if (can("promotions.edit")) {
          var acts = el("div", "actions");
          acts.appendChild(btn(t("edit"), "", function () { promoEdit(p); }, { "data-action": "edit" }));
          acts.appendChild(btn(sp.active ? t("pause") : t("activate"), "", function () {
            C.api("PUT", "/api/promotions/" + encodeURIComponent(p.promotion_id) + "/active", { active: !sp.active }).then(promoList).catch(C.fail);
          }, { "data-action": "toggle" }));
          card.appendChild(acts);
        }
        box.appendChild(card);
      });
    }).catch(C.fail);
  }
  function promoTypeChanged() {
    var ty = $("pr-type").value;
    document.querySelectorAll("#pr-form [data-types]").forEach(function (n) {
      n.hidden = n.getAttribute("data-types").split(" ").indexOf(ty) < 0;
    });
  }
  function promoEdit(p) {
    B.promoEditing = p ? p.promotion_id : null;
    var ed = $("pr-editor"); ed.hidden = false;
    $("pr-form").reset();
    B.promoWeekdays = [];
    if (p) {
      $("pr-type").value = p.type; $("pr-id").value = p.promotion_id; $("pr-id").readOnly = true;
      $("pr-name-en").value = p.name_en; $("pr-name-zh").value = p.name_zh;
      $("pr-skus").value = (p.skus || []).join(", "); $("pr-categories").value = (p.categories || []).join(", ");
      if (p.percent_bp) $("pr-percent").value = majorText(p.percent_bp).replace(/\.00$/, "");
      if (p.quantity) $("pr-quantity").value = p.quantity;
      if (p.pay_for) $("pr-pay-for").value = p.pay_for;
      if (p.price) $("pr-price").value = majorText(p.price.minor);
      if (p.buy) $("pr-buy").value = p.buy;
      if (p.get) $("pr-get").value = p.get;
      if (p.min_spend) $("pr-min-spend").value = majorText(p.min_spend.minor);
      if (p.tiers) $("pr-tiers").value = p.tiers.map(function (x) { return majorText(x.threshold.minor) + ":" + majorText(x.saving.minor); }).join(", ");
      $("pr-coupon").value = p.coupon_code || ""; $("pr-levels").value = (p.member_levels || []).join(", ");
      $("pr-member-only").checked = !!p.member_only;
      if (p.window) {
        $("pr-from").value = p.window.start_date || ""; $("pr-to").value = p.window.end_date || "";
        $("pr-tfrom").value = p.window.start_time ? p.window.start_time.slice(0, 5) : "";
        $("pr-tto").value = p.window.end_time ? p.window.end_time.slice(0, 5) : "";
        B.promoWeekdays = (p.window.weekdays || []).slice();
      }
    } else { $("pr-id").readOnly = false; }
    weekdayBoxes();
    promoTypeChanged();
    ed.scrollIntoView({ block: "start" });
  }
  /* the form as a promotion dict (retail.promotions.promotion_to_dict shape); throws on a bad field */
  function promoFromForm() {
    var ty = $("pr-type").value, cur = B.currency;
    function money(id) { var v = parseMoney($(id).value); if (isNaN(v)) throw new Error(t($(id).closest("label").querySelector("span").getAttribute("data-i18n"))); return { minor: v, currency: cur }; }
    function int(id) { var v = parseInt($(id).value, 10); if (isNaN(v)) throw new Error(t($(id).closest("label").querySelector("span").getAttribute("data-i18n"))); return v; }
    function bp() { var v = parseBp($("pr-percent").value); if (isNaN(v) || v <= 0) throw new Error(t("pr_percent")); return v; }
    var d = { type: ty, promotion_id: $("pr-id").value.trim(), name_en: $("pr-name-en").value.trim(), name_zh: $("pr-name-zh").value.trim() };
    if (["percent_off", "multibuy", "buy_x_get_y", "member_price", "fixed_price"].indexOf(ty) >= 0) {
      d.skus = list($("pr-skus").value); d.categories = list($("pr-categories").value);
    }
    if (ty === "percent_off" || ty === "basket_percent_off") d.percent_bp = bp();
    if (ty === "buy_x_get_y") { d.buy = int("pr-buy"); d.get = int("pr-get"); d.percent_bp = $("pr-percent").value.trim() ? bp() : 10000; }
    if (ty === "multibuy") {
      d.quantity = int("pr-quantity");
      if ($("pr-pay-for").value.trim()) d.pay_for = int("pr-pay-for"); else d.price = money("pr-price");
    }
    if (ty === "member_price" || ty === "fixed_price") d.price = money("pr-price");
    if (ty === "basket_percent_off" && $("pr-min-spend").value.trim()) d.min_spend = money("pr-min-spend");
    if (ty === "spend_and_save") {
      d.tiers = list($("pr-tiers").value.replace(/：/g, ":")).map(function (pair) {
        var bits = pair.split(":"), a = parseMoney(bits[0]), b = parseMoney(bits[1]);
        if (bits.length !== 2 || isNaN(a) || isNaN(b)) throw new Error(t("pr_tiers"));
        return { threshold: { minor: a, currency: cur }, saving: { minor: b, currency: cur } };
      });
    }
    var coupon = $("pr-coupon").value.trim();
    if (coupon) d.coupon_code = coupon;
    var levels = list($("pr-levels").value);
    if (levels.length) d.member_levels = levels;
    if ($("pr-member-only").checked || ty === "member_price") d.member_only = true;
    var wd = checkedWeekdays(), from = $("pr-from").value, to = $("pr-to").value, tf = $("pr-tfrom").value, tt = $("pr-tto").value;
    if (wd.length || from || to || tf || tt) {
      d.window = { start_date: from || null, end_date: to || null, weekdays: wd, start_time: tf || null, end_time: tt || null };
    }
    return d;
  }
  function promoSave(ev) {
    ev.preventDefault();
    var d;
    try { d = promoFromForm(); } catch (e) { C.fail(e); return; }
    C.api("POST", "/api/promotions", d).then(function () {
      C.toast(t("saved")); $("pr-editor").hidden = true; B.promoEditing = null; promoList();
    }).catch(C.fail);
  }
  function pvLine(sku, qty) {
    var row = el("div", "line");
    row.appendChild(input({ value: sku || "", placeholder: t("sku"), "class": "pv-sku", "aria-label": t("sku"), list: "bo-skus" }));
    row.appendChild(input({ type: "number", min: "1", value: qty || 1, "class": "pv-qty", "aria-label": t("quantity") + " / " + t("weight_g") }));
    row.appendChild(btn("×", "small", function () { row.remove(); }, { "aria-label": t("remove") }));
    $("pv-lines").appendChild(row);
  }
  function promoPreview() {
    var lines = [];
    document.querySelectorAll("#pv-lines .line").forEach(function (r) {
      var sku = r.querySelector(".pv-sku").value.trim(), n = parseInt(r.querySelector(".pv-qty").value, 10);
      if (!sku || isNaN(n) || n < 1) return;
      var p = B.products && B.products[sku];
      lines.push(p && p.sold_by === "weight" ? { sku: sku, weight_g: n } : { sku: sku, quantity: n });
    });
    if (!lines.length) return;
    var body = { lines: lines, coupons: list($("pv-coupons").value), member_level: $("pv-level").value.trim() || null, drafts: [] };
    if ($("pv-draft").checked && !$("pr-editor").hidden && $("pr-id").value.trim()) {
      try { body.drafts.push(promoFromForm()); } catch (e) { C.fail(e); return; }
    }
    C.api("POST", "/api/promotions/preview", body).then(function (res) {
      var box = clear($("pv-result"));
      box.appendChild(table([
        { h: t("name"), v: function (l) { return zh() ? l.name_zh : l.name_en; } },
        { h: t("quantity"), num: true, v: function (l) { return l.weight_g ? grams(l.weight_g) : String(l.quantity); } },
        { h: t("gross"), num: true, v: function (l) { return mo(l.gross); } },
        { h: t("savings"), num: true, v: function (l) {
          var d = el("div"); d.appendChild(el("span", l.savings.minor ? "pos" : "", l.savings.minor ? "-" + mo(l.savings) : t("none")));
          l.promotions.forEach(function (p) { d.appendChild(el("div", "muted small", zh() ? p.name_zh : p.name_en)); });
          return d; } },
        { h: t("net"), num: true, v: function (l) { return mo(l.payable); } }
      ], res.lines, { cls: "preview", rowAttrs: function (l) { return { "data-sku": l.sku }; } }));
      var tot = el("div", "totals");
      res.savings_by_promotion.forEach(function (s) {
        var r = el("div", "trow saving"); r.setAttribute("data-promotion", s.promotion_id);
        r.appendChild(el("span", null, zh() ? s.name_zh : s.name_en)); r.appendChild(el("span", "pos", "-" + mo(s.amount))); tot.appendChild(r);
      });
      [[t("subtotal"), mo(res.subtotal), "subtotal"], [t("total_savings"), "-" + mo(res.total_savings), "savings"], [t("total"), mo(res.total), "total"]].forEach(function (x) {
        var r = el("div", "trow " + x[2]); r.setAttribute("data-total", x[2]);
        r.appendChild(el("span", null, x[0])); r.appendChild(el("b", null, x[1])); tot.appendChild(r);
      });
      Object.keys(res.coupons_rejected || {}).forEach(function (c) { tot.appendChild(el("p", "bad", t("coupon_rejected", { code: c, why: res.coupons_rejected[c] }))); });
      box.appendChild(tot);
    }).catch(C.fail);
  }

  /* ================= staff ================= */
  function staffShow() {
    var me = C.S.me;
    Promise.all([C.api("GET", "/api/auth/me"), C.api("GET", "/api/staff/" + me.id + "/timesheet")]).then(function (r) {
      var sec = clear($("sf-me"));
      var head = el("div", "head");
      var l = el("div"); l.appendChild(el("h3", "title", me.name + " · " + t("role_" + me.role)));
      var st = el("p", "muted", r[0].clocked_in ? t("clocked_in") : t("clocked_out")); st.id = "sf-clock-state";
      st.setAttribute("data-clocked-in", String(r[0].clocked_in)); l.appendChild(st);
      head.appendChild(l);
      head.appendChild(btn(r[0].clocked_in ? t("clock_out") : t("clock_in"), r[0].clocked_in ? "" : "primary", function () {
        C.api("POST", "/api/staff/" + me.id + (r[0].clocked_in ? "/clock-out" : "/clock-in")).then(staffShow).catch(C.fail);
      }, { "data-action": "clock" }));
      sec.appendChild(head);
      sec.appendChild(el("h4", null, t("this_week") + " · " + t("total_hours", { h: r[1].total_hours })));
      sec.appendChild(timesheetTable(r[1]));
    }).catch(C.fail);
    if (can("staff.manage")) staffList();
    if (can("timesheet.view_all")) {
      if (!$("ts-end").value) { $("ts-end").value = todayIso(); $("ts-start").value = addDays(todayIso(), -6); }
    }
    if (can("audit.view")) auditLoad();
  }
  function timesheetTable(ts) {
    return table([
      { h: t("date"), v: function (d) { return d.date; } },
      { h: t("hours"), num: true, v: function (d) { return d.hours; } }
    ], ts.days.filter(function (d) { return d.minutes > 0; }), { cls: "timesheet" });
  }
  function staffList() {
    Promise.all([C.api("GET", "/api/staff?include_inactive=true"), C.api("GET", "/api/staff/roles")]).then(function (r) {
      var roles = Object.keys(r[1]);
      B.staffRoles = roles;
      var sel = clear($("sn-role"));
      roles.forEach(function (ro) { var o = el("option", null, t("role_" + ro)); o.value = ro; sel.appendChild(o); });
      var tsSel = $("ts-staff"), keep = tsSel.value; clear(tsSel);
      r[0].forEach(function (s) { var o = el("option", null, s.name); o.value = s.id; tsSel.appendChild(o); });
      if (keep) tsSel.value = keep;
      clear($("sf-list")).appendChild(table([
        { h: t("name"), v: function (s) { return s.name; } },
        { h: t("username"), v: function (s) { return s.username || t("none"); }, cls: "mono" },
        { h: t("role"), v: function (s) {
          var rs = el("select", "role-select"); rs.setAttribute("aria-label", t("role") + " " + s.name);
          roles.forEach(function (ro) { var o = el("option", null, t("role_" + ro)); o.value = ro; rs.appendChild(o); });
          rs.value = s.role; rs.disabled = s.id === C.S.me.id;
          rs.addEventListener("change", function () {
            C.api("PUT", "/api/staff/" + s.id + "/role", { role: rs.value }).then(function () { C.toast(t("role_changed")); }).catch(function (e) { rs.value = s.role; C.fail(e); });
          });
          return rs; } },
        { h: t("active"), v: function (s) { return s.active ? "✓" : "—"; } }
      ], r[0], { rowAttrs: function (s) { return { "data-staff": s.id }; } }));
    }).catch(C.fail);
  }
  function auditLoad() {
    var prefix = $("au-action").value.trim();
    C.api("GET", "/api/audit?limit=50" + (prefix ? "&action_prefix=" + encodeURIComponent(prefix) : "")).then(function (rows) {
      clear($("au-table")).appendChild(table([
        { h: t("when"), v: function (a) { return C.clock(a.at); } },
        { h: t("actor"), v: function (a) { return C.who(a.actor); } },
        { h: t("action"), v: function (a) { return a.action; }, cls: "mono" },
        { h: t("target"), v: function (a) { return a.target; }, cls: "mono small" },
        { h: t("details"), v: function (a) { return auditDetail(a); }, cls: "small" }
      ], rows, { cls: "audit", rowAttrs: function (a) { return { "data-action": a.action, "data-target": a.target }; } }));
    }).catch(C.fail);
  }
  function auditDetail(a) {
    function short(v) { if (v === null || v === undefined) return ""; var s = typeof v === "string" ? v : JSON.stringify(v); return s.length > 120 ? s.slice(0, 117) + "…" : s; }
    if (a.action === "catalogue.price" && a.before && a.after) {
      return m(a.before.price_minor) + " → " + m(a.after.price_minor);
    }
    return [a.before !== null && a.before !== undefined ? short(a.before) + " → " : "", short(a.after), a.detail ? " " + a.detail : ""].join("");
  }

  /* ================= reports ================= */
  var SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var n = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function niceStep(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10)), f = v / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }
  /* vertical bars (optionally a line over them): rows [{label, value, line?, title}] */
  function barChart(rows, fmt, opts) {
    opts = opts || {};
    var W = Math.max(340, Math.min(1100, opts.width || 760)), H = W < 560 ? 240 : 280, L = 60, R = 12, T = 14, Bm = 40;
    var max = Math.max.apply(null, rows.map(function (r) { return Math.max(r.value, r.line || 0); }).concat([0]));
    var min = Math.min.apply(null, rows.map(function (r) { return Math.min(r.value, r.line === undefined ? 0 : r.line); }).concat([0]));
    var step = niceStep((max - min) / 4 || 1), lo = Math.floor(min / step) * step, hi = Math.ceil(max / step) * step;
    if (hi === lo) hi = lo + step;
    var span = hi - lo, ticks = Math.round(span / step);
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "chart-svg", preserveAspectRatio: "xMidYMid meet" });
    s.appendChild(svg("title", {}, opts.title || ""));
    function y(v) { return T + (H - T - Bm) * (1 - (v - lo) / span); }
    for (var g = 0; g <= ticks; g++) {
      var gv = lo + step * g, gy = y(gv);
      s.appendChild(svg("line", { x1: L, x2: W - R, y1: gy, y2: gy, "class": "grid" + (gv === 0 ? " zero" : "") }));
      s.appendChild(svg("text", { x: L - 6, y: gy + 4, "text-anchor": "end", "class": "axis" }, fmt(Math.round(gv), true)));
    }
    var n = rows.length, slot = (W - L - R) / Math.max(n, 1), bw = Math.max(2, Math.min(48, slot * 0.7));
    var every = Math.max(1, Math.ceil(n / Math.max(4, Math.floor(W / 62))));
    var pts = [];
    rows.forEach(function (r, i) {
      var cx = L + slot * i + slot / 2, top = y(Math.max(r.value, 0)), bot = y(Math.min(r.value, 0));
      var bar = svg("rect", { x: cx - bw / 2, y: top, width: bw, height: Math.max(1, bot - top), rx: 3, "class": "bar" + (r.value < 0 ? " neg" : ""), "data-key": r.label });
      bar.appendChild(svg("title", {}, r.title || (r.label + ": " + fmt(r.value))));
      s.appendChild(bar);
      if (i % every === 0) s.appendChild(svg("text", { x: cx, y: H - Bm + 18, "text-anchor": "middle", "class": "axis" }, r.short || r.label));
      if (r.line !== undefined) pts.push(cx + "," + y(r.line));
    });
    if (pts.length) {
      s.appendChild(svg("polyline", { points: pts.join(" "), "class": "line" }));
      pts.forEach(function (p) { var xy = p.split(","); s.appendChild(svg("circle", { cx: xy[0], cy: xy[1], r: 3.5, "class": "dot" })); });
    }
    return s;
  }
  /* horizontal bars: rows [{label, value, text}] */
  function hbarChart(rows, fmt, width) {
    var W = Math.max(340, Math.min(1100, width || 760)), rowH = 30, L = W < 560 ? 84 : 200, R = W < 560 ? 124 : 150;
    var H = rows.length * rowH + 8;
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "chart-svg hbars" });
    rows.forEach(function (r, i) {
      var y0 = 4 + i * rowH, w = Math.max(2, (W - L - R) * Math.max(r.value, 0) / max);
      var cut = W < 560 ? 8 : 26, label = r.label.length > cut ? r.label.slice(0, cut - 1) + "…" : r.label;
      s.appendChild(svg("text", { x: L - 8, y: y0 + 19, "text-anchor": "end", "class": "axis label" }, label));
      var bar = svg("rect", { x: L, y: y0 + 5, width: w, height: rowH - 10, rx: 3, "class": "bar", "data-key": r.key });
      bar.appendChild(svg("title", {}, r.label + ": " + fmt(r.value)));
      s.appendChild(bar);
      s.appendChild(svg("text", { x: L + w + 6, y: y0 + 19, "class": "axis value" }, r.text || fmt(r.value)));
    });
    return s;
  }
  function rpRange() { return "start=" + $("rp-start").value + "&end=" + $("rp-end").value; }
  function reportsShow() {
    if (!$("rp-end").value) { $("rp-end").value = todayIso(); $("rp-start").value = addDays(todayIso(), -29); }
    if (!$("z-date").value) $("z-date").value = todayIso();
    if (!$("exp-date").value) $("exp-date").value = todayIso();
    var expSel = $("exp-cat");
    if (!expSel.options.length || B.expLang !== C.S.lang) {
      clear(expSel); B.expLang = C.S.lang;
      [["rent", "租金"], ["wages", "工资"], ["utilities", "水电费"], ["supplies", "物料"], ["other", "其他"]].forEach(function (c) {
        var o = el("option", null, zh() ? c[1] : c[0].charAt(0).toUpperCase() + c[0].slice(1)); o.value = c[0]; expSel.appendChild(o);
      });
    }
    Promise.all([loadProducts().catch(function () { return {}; }), loadCategories().catch(function () { return []; })]).then(function () {
      rpSummary(); rpSales(); rpDim(); rpSellers(); rpProfit(); zLoad();
    });
  }
  function rpSummary() {
    C.api("GET", "/api/reports/summary?" + rpRange()).then(function (s) {
      var box = clear($("rp-tiles"));
      var exTax = s.revenue_minor - s.tax_minor;
      var mpct = exTax ? Math.round(1000 * s.gross_margin_minor / exTax) / 10 : null;
      box.appendChild(tile(t("t_sales"), String(s.sales), "sales"));
      box.appendChild(tile(t("t_revenue"), m(s.revenue_minor), "revenue"));
      box.appendChild(tile(t("t_basket"), m(s.average_basket_minor), "basket"));
      box.appendChild(tile(t("t_margin"), m(s.gross_margin_minor) + (mpct === null ? "" : " · " + mpct + "%"), "margin"));
      box.appendChild(tile(t("t_units"), String(s.units), "units"));
    }).catch(C.fail);
  }
  function periodLabel(key, by) {
    if (by === "hour") return t("hour_h", { h: key });
    if (by === "day") return key.slice(5);
    return key;
  }
  function rpSales() {
    var by = B.rpBy;
    document.querySelectorAll("#rp-by button").forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-by") === by)); });
    $("rp-sales-csv").href = "/api/reports/sales?by=" + by + "&" + rpRange() + "&format=csv";
    C.api("GET", "/api/reports/sales?by=" + by + "&" + rpRange()).then(function (rows) {
      var box = clear($("rp-chart"));
      box.setAttribute("data-by", by);
      if (!rows.length) { box.appendChild(el("p", "empty", t("no_sales"))); return; }
      box.appendChild(barChart(rows.map(function (r) {
        return { label: r.key, short: by === "hour" ? r.key : periodLabel(r.key, by), value: r.total_minor,
                 title: periodLabel(r.key, by) + ": " + m(r.total_minor) + " · " + r.count + " " + t("count") };
      }), function (v, axis) { return axis ? shortMoney(v) : m(v); }, { title: t("rp_sales"), width: box.clientWidth }));
      var legend = el("p", "muted small", t("revenue") + " · " + rows.reduce(function (a, r) { return a + r.count; }, 0) + " " + t("count") +
        " · " + m(rows.reduce(function (a, r) { return a + r.total_minor; }, 0)));
      box.appendChild(legend);
    }).catch(C.fail);
  }
  function shortMoney(minor) {
    var v = Math.round(minor / 100), sign = v < 0 ? "-" : ""; v = Math.abs(v);
    if (v >= 10000 && zh()) return sign + "¥" + (Math.round(v / 1000) / 10) + "万";
    if (v >= 1000) return sign + "¥" + (Math.round(v / 100) / 10) + "k";
    if (v === 0) return "¥0";
    return sign + "¥" + v;
  }
  function dimLabel(dim, r) {
    if (dim === "category") return catName(r.key);
    if (dim === "payment") return methodName(r.key);
    if (dim === "product") return (zh() ? r.name_zh : r.name_en) || skuName(r.key) || r.key;
    return r.key;
  }
  function rpDim() {
    var dim = B.rpDim;
    document.querySelectorAll("#rp-dim button").forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-dim") === dim)); });
    $("rp-dim-csv").href = "/api/reports/sales?by=" + dim + "&" + rpRange() + "&format=csv";
    C.api("GET", "/api/reports/sales?by=" + dim + "&" + rpRange()).then(function (rows) {
      var box = clear($("rp-dim-chart")); box.setAttribute("data-dim", dim);
      var val = function (r) { return r.total_minor !== undefined ? r.total_minor : r.revenue_minor; };
      rows = rows.slice().sort(function (a, b) { return val(b) - val(a); });
      if (!rows.length) { box.appendChild(el("p", "empty", t("no_sales"))); return; }
      box.appendChild(hbarChart(rows.slice(0, 12).map(function (r) {
        var extra = box.clientWidth < 560 ? "" : (r.average_basket_minor !== undefined ? " · ⌀ " + m(r.average_basket_minor) : (r.gross_margin_minor !== undefined && r.gross_margin_minor !== null ? " · " + t("t_margin") + " " + m(r.gross_margin_minor) : ""));
        return { key: r.key, label: dimLabel(dim, r), value: val(r), text: m(val(r)) + extra };
      }), function (v) { return m(v); }, box.clientWidth));
    }).catch(C.fail);
  }
  function rpSellers() {
    $("rp-top-csv").href = "/api/reports/top?" + rpRange() + "&format=csv";
    $("rp-slow-csv").href = "/api/reports/slow?" + rpRange() + "&format=csv";
    C.api("GET", "/api/reports/top?limit=10&" + rpRange()).then(function (rows) {
      clear($("rp-top")).appendChild(table([
        { h: t("name"), v: function (r) { return skuName(r.key) || r.key; } },
        { h: t("lines_n"), num: true, v: function (r) { return r.lines; } },
        { h: t("revenue"), num: true, v: function (r) { return m(r.revenue_minor); } }
      ], rows, { cls: "top", rowAttrs: function (r) { return { "data-sku": r.key }; } }));
    }).catch(C.fail);
    C.api("GET", "/api/reports/slow?limit=10&" + rpRange()).then(function (rows) {
      clear($("rp-slow")).appendChild(table([
        { h: t("name"), v: function (r) { return (zh() ? r.name_zh : r.name_en) || r.key; } },
        { h: t("units"), num: true, v: function (r) { return r.units; } },
        { h: t("revenue"), num: true, v: function (r) { return m(r.revenue_minor); } }
      ], rows, { cls: "slow", rowAttrs: function (r) { return { "data-sku": r.key }; } }));
    }).catch(C.fail);
  }
  function rpProfit() {
    var by = B.rpPBy;
    document.querySelectorAll("#rp-pby button").forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-by") === by)); });
    $("rp-profit-csv").href = "/api/reports/profit?by=" + by + "&" + rpRange() + "&format=csv";
    C.api("GET", "/api/reports/profit?by=" + by + "&" + rpRange()).then(function (rep) {
      var box = clear($("rp-profit"));
      if (rep.rows.length) {
        var chart = el("div", "chart"); chart.setAttribute("data-chart", "profit");
        chart.appendChild(barChart(rep.rows.map(function (r) {
          return { label: r.key, value: r.gross_margin_minor, line: r.profit_minor,
                   title: r.key + ": " + t("t_margin") + " " + m(r.gross_margin_minor) + " · " + t("profit") + " " + m(r.profit_minor) };
        }), function (v, axis) { return axis ? shortMoney(v) : m(v); }, { title: t("rp_profit"), width: box.clientWidth }));
        chart.appendChild(el("p", "muted small legend", "▮ " + t("t_margin") + "   ● " + t("profit")));
        box.appendChild(chart);
      }
      var rows = rep.rows.concat([Object.assign({}, rep.total, { key: t("total") })]);
      box.appendChild(table([
        { h: "", v: function (r) { return r.key; } },
        { h: t("revenue"), num: true, v: function (r) { return m(r.revenue_minor); } },
        { h: t("refunds_w"), num: true, v: function (r) { return m(r.refunds_minor); } },
        { h: t("cogs"), num: true, v: function (r) { return m(r.cogs_minor); } },
        { h: t("t_margin"), num: true, v: function (r) { return m(r.gross_margin_minor) + (r.gross_margin_pct === null ? "" : " (" + r.gross_margin_pct + "%)"); } },
        { h: t("expenses"), num: true, v: function (r) { return m(r.expenses_minor); } },
        { h: t("profit"), num: true, v: function (r) { return el("b", r.profit_minor < 0 ? "neg" : "pos", m(r.profit_minor)); } }
      ], rows, { cls: "profit", rowAttrs: function (r, i) { return { "class": i === rows.length - 1 ? "total-row" : null }; } }));
    }).catch(C.fail);
    C.api("GET", "/api/expenses?" + rpRange()).then(function (ex) {
      clear($("rp-expenses")).appendChild(table([
        { h: t("date"), v: function (e) { return e.date; } },
        { h: t("category"), v: function (e) { return zh() ? e.category_zh : e.category_en; } },
        { h: t("note"), v: function (e) { return e.note; } },
        { h: t("amount"), num: true, v: function (e) { return mo(e.amount); } }
      ], ex.expenses, { cls: "expenses" }));
    }).catch(C.fail);
  }
  function zLoad() {
    var day = $("z-date").value || todayIso();
    $("z-text").href = "/api/dayclose/" + day + "?format=text&lang=" + (zh() ? "zh" : "en");
    C.api("GET", "/api/dayclose/" + day).then(function (z) {
      var box = clear($("z-body")); box.setAttribute("data-date", z.business_date);
      var L = function (k) { var l = z.labels && z.labels[k]; return l ? (zh() ? l.zh : l.en) : k; };
      var cols = [{ h: "", v: function (r) { return r.label; }, cls: "strong" }];
      var figs = [{ id: "shop", name: t("z_shop"), f: z.shop }].concat(Object.keys(z.kiosks).map(function (k) { return { id: k, name: k, f: z.kiosks[k] }; }));
      figs.forEach(function (x) { cols.push({ h: x.name, num: true, v: function (r) { return r.get(x.f); } }); });
      var methods = {};
      figs.forEach(function (x) { Object.keys(x.f.payments).forEach(function (k) { methods[k] = 1; }); });
      var rows = [
        { label: L("sales"), get: function (f) { return String(f.sales); } },
        { label: L("gross"), get: function (f) { return m(f.gross_minor); } },
        { label: L("savings"), get: function (f) { return m(f.savings_minor); } },
        { label: L("net"), get: function (f) { return m(f.net_minor); } },
        { label: L("tax"), get: function (f) { return m(f.tax_minor); } }
      ];
      Object.keys(methods).sort().forEach(function (k) {
        rows.push({ label: L("payments") + " · " + L(k), get: function (f) { return m(f.payments[k] || 0); } });
      });
      rows.push({ label: L("change"), get: function (f) { return m(f.change_minor); } });
      rows.push({ label: L("refunds"), get: function (f) { return f.refunds.count + " · " + m(f.refunds.total_minor); } });
      rows.push({ label: L("net_after_refunds"), get: function (f) { return m(f.net_after_refunds_minor); } });
      rows.push({ label: L("cash_expected"), get: function (f) { return m(f.cash_expected_minor); } });
      rows.push({ label: L("first_seq") + " – " + L("last_seq"), get: function (f) { return f.first_seq === undefined ? "" : (f.first_seq === null ? t("none") : f.first_seq + " – " + f.last_seq); } });
      rows.push({ label: L("missing"), get: function (f) { return f.missing_seqs === undefined ? "" : (f.missing_seqs.length ? f.missing_seqs.map(function (r) { return r[0] === r[1] ? r[0] : r[0] + "–" + r[1]; }).join(", ") : "✓"); } });
      if (z.closed_at) box.appendChild(el("p", "okmsg", L("closed_at") + " " + C.clock(z.closed_at) + (z.closed_by ? " · " + L("closed_by") + " " + C.who(z.closed_by) : "")));
      box.appendChild(table(cols, rows, { cls: "zreport" }));
      $("z-close").hidden = !!z.closed_at;
    }).catch(C.fail);
  }

  /* ================= refunds ================= */
  function refundsShow() { if (B.refundSale) refundFind(B.refundSale); }
  function refundFind(code) {
    code = (code || $("rf-code").value).trim();
    if (!code) return;
    C.api("GET", "/api/refunds/sales/" + encodeURIComponent(code)).then(function (sale) {
      B.refundSale = code;
      renderRefundSale(sale);
    }).catch(C.fail);
  }
  function renderRefundSale(sale) {
    var sec = clear($("rf-sale")); sec.hidden = false; sec.setAttribute("data-sale", sale.kiosk_id + "-" + sale.seq);
    var head = el("div", "head");
    var l = el("div"); l.appendChild(el("h3", "title", t("sale_title", { kiosk: sale.kiosk_id, seq: sale.seq, date: sale.business_date })));
    var how = function (o) { return Object.keys(o).map(function (k) { return methodName(k) + " " + m(o[k], sale.currency); }).join(", "); };
    l.appendChild(el("p", "muted", t("total") + " " + m(sale.total_minor, sale.currency) + " · " + t("paid") + ": " + how(sale.paid) +
      (sale.member_id ? " · " + t("member", { id: sale.member_id }) : "")));
    if (Object.keys(sale.refunded).length) l.appendChild(el("p", "warnmsg", t("already_refunded", { how: how(sale.refunded) })));
    head.appendChild(l); sec.appendChild(head);
    sec.appendChild(table([
      { h: "", label: false, v: function (li) { var c = input({ type: "checkbox", "class": "rf-pick", "aria-label": li.name }); c.disabled = li.left <= 0; return c; } },
      { h: t("name"), v: function (li) { return li.name; } },
      { h: t("quantity"), num: true, v: function (li) { return li.weighed ? grams(li.weight_g) : String(li.quantity); } },
      { h: t("net"), num: true, v: function (li) { return m(li.net_minor, sale.currency); } },
      { h: t("left"), num: true, v: function (li) { return li.weighed ? (li.left ? t("whole_line") : "0") : String(li.left); } },
      { h: t("do_refund"), v: function (li) {
        if (li.weighed || li.left <= 0) return "";
        return input({ type: "number", min: "1", max: String(li.left), value: String(li.left), "class": "rf-qty", "aria-label": t("quantity") + " " + li.name });
      } }
    ], sale.lines, { cls: "refund-lines", rowAttrs: function (li) { return { "data-line": li.line_no, "data-left": li.left }; } }));
    var form = el("div", "formgrid");
    var modeL = el("label"); modeL.appendChild(el("span", null, t("refund_to")));
    var mode = el("select"); mode.id = "rf-mode";
    [["original", t("to_original")], ["stored_value", t("to_stored")]].forEach(function (x) { var o = el("option", null, x[1]); o.value = x[0]; mode.appendChild(o); });
    if (!sale.member_id) mode.options[1].disabled = true;
    modeL.appendChild(mode); form.appendChild(modeL);
    var rl = el("label"); rl.appendChild(el("span", null, t("reason"))); var reason = input({ id: "rf-reason", maxlength: "500" }); rl.appendChild(reason); form.appendChild(rl);
    sec.appendChild(form);
    var acts = el("div", "actions");
    var go = btn(t("do_refund"), "danger", function () {
      var lines = [];
      sec.querySelectorAll("tr[data-line]").forEach(function (tr) {
        var pick = tr.querySelector(".rf-pick");
        if (!pick || !pick.checked) return;
        var q = tr.querySelector(".rf-qty"), line = { line_no: parseInt(tr.getAttribute("data-line"), 10) };
        if (q) { var n = parseInt(q.value, 10); if (isNaN(n) || n < 1) return; line.quantity = n; }
        lines.push(line);
      });
      if (!lines.length) { C.toast(t("refund_none")); return; }
      go.disabled = true;
      C.api("POST", "/api/refunds", { refund_id: "rf-" + uid(), sale: sale.kiosk_id + "-" + sale.seq, lines: lines,
                                     to: mode.value, reason: reason.value.trim() }).then(function (rf) {
        var by = {}; rf.payments.forEach(function (p) { by[p.refunded_as] = (by[p.refunded_as] || 0) + p.amount_minor; });
        var done = el("p", "okmsg refund-done", t("refund_done", { total: m(rf.total_minor, rf.currency), how: how(by) }));
        done.setAttribute("data-refund", rf.refund_id); done.setAttribute("data-total", rf.total_minor);
        clear($("rf-done")).appendChild(done);
        refundFind(sale.kiosk_id + "-" + sale.seq);
      }).catch(function (e) { go.disabled = false; C.fail(e); });
    }, { "data-action": "refund" });
    acts.appendChild(go); sec.appendChild(acts);
  }

  /* ================= wiring ================= */
  function wire() {
    $("bo-toggle").addEventListener("click", function (ev) { ev.stopPropagation(); toggleMenu(); });
    document.addEventListener("click", function (ev) { if (!$("bo-menu").hidden && !$("bo-menu").contains(ev.target)) toggleMenu(false); });
    document.querySelectorAll(".bo-item").forEach(function (b) {
      b.addEventListener("click", function () { openPage(b.getAttribute("data-page")); });
    });
    /* catalogue */
    $("cat-search").addEventListener("submit", function (ev) { ev.preventDefault(); B.cat.offset = 0; B.cat.editing = null; catSearch(); });
    $("cat-category").addEventListener("change", function () { B.cat.offset = 0; catSearch(); });
    $("cat-prev").addEventListener("click", function () { B.cat.offset = Math.max(0, B.cat.offset - B.cat.limit); catSearch(); });
    $("cat-next").addEventListener("click", function () { B.cat.offset += B.cat.limit; catSearch(); });
    $("imp-file").addEventListener("change", function () {
      var f = this.files && this.files[0];
      if (!f) return;
      var fmt = /\.xlsx$/i.test(f.name) ? "xlsx" : "csv";
      f.arrayBuffer().then(function (buf) {
        B.imp = { fmt: fmt, rows: null, preview: null };
        if (fmt === "csv") {
          var text;
          try { text = new TextDecoder("utf-8", { fatal: true }).decode(buf); } catch (e) { text = null; }
          if (text !== null) B.imp.rows = parseCsv(text);
        }
        return importUpload(buf, fmt);
      }).catch(C.fail);
    });
    $("imp-recheck").addEventListener("click", function () {
      if (!B.imp || !B.imp.rows) return;
      var rows = B.imp.rows.filter(function (r) { return r.some(function (c) { return String(c).trim() !== ""; }); });
      importUpload(new TextEncoder().encode(toCsv(rows)), "csv");
    });
    $("imp-skip").addEventListener("change", updateConfirm);
    $("imp-confirm").addEventListener("click", importConfirm);
    $("imp-discard").addEventListener("click", function () {
      if (B.imp && B.imp.preview) C.api("DELETE", "/api/catalogue/import/" + encodeURIComponent(B.imp.preview.token)).catch(function () {});
      importReset();
    });
    /* stock */
    document.querySelectorAll("#stock-seg button").forEach(function (b) {
      b.addEventListener("click", function () { B.stockSub = b.getAttribute("data-sub"); stockShow(); });
    });
    $("lv-filter").addEventListener("input", renderLevels);
    $("lv-low").addEventListener("change", renderLevels);
    $("ex-load").addEventListener("click", expiringLoad);
    $("ro-order").addEventListener("click", function () {
      var picked = [];
      document.querySelectorAll(".ro-pick:checked").forEach(function (c) { picked.push(B.reorder[parseInt(c.getAttribute("data-i"), 10)]); });
      if (!picked.length) return;
      clear($("po-lines"));
      picked.forEach(function (s) { var p = B.products[s.sku]; poLine(s.sku, s.quantity, p && p.cost_price ? p.cost_price.minor : null); });
      B.stockSub = "orders"; stockShow();
      var sup = picked.filter(function (s) { return s.supplier_id !== null; })[0];
      if (sup) setTimeout(function () { $("po-supplier").value = String(sup.supplier_id); }, 0);
    });
    $("po-add-line").addEventListener("click", function () { poLine(); });
    $("po-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var lines = [], bad = false;
      document.querySelectorAll("#po-lines .line").forEach(function (r) {
        var sku = r.querySelector(".po-sku").value.trim(), a = parseInt(r.querySelector(".po-amount").value, 10), c = parseMoney(r.querySelector(".po-cost").value);
        if (!sku) return;
        if (isNaN(a) || a < 1 || isNaN(c)) { bad = true; return; }
        lines.push({ sku: sku, amount: a, cost_minor: c });
      });
      if (bad || !lines.length) { C.toast(t("failed", { why: t("amount") + " / " + t("unit_cost") })); return; }
      C.api("POST", "/api/stock/purchase-orders", { supplier_id: parseInt($("po-supplier").value, 10), lines: lines }).then(function () {
        clear($("po-lines")); C.toast(t("saved")); ordersLoad();
      }).catch(C.fail);
    });
    $("stc-open").addEventListener("click", function () {
      C.api("POST", "/api/stock/stocktakes", { note: "" }).then(function (s) { B.stocktake = s.id; B.stockSub = "count"; stockShow(); }).catch(C.fail);
    });
    $("stc-form").addEventListener("submit", function (ev) { ev.preventDefault(); countSubmit(true); });
    $("stc-set").addEventListener("click", function () { countSubmit(false); });
    $("stc-approve").addEventListener("click", function () {
      C.api("POST", "/api/stock/stocktakes/" + B.stocktake + "/approve", { approved_by: C.S.me.id }).then(function () {
        C.toast(t("saved")); countLoad();
      }).catch(C.fail);
    });
    setupScan("stc-scan", "stc-scan-hint", function (code) {
      C.api("POST", "/api/stock/stocktakes/" + B.stocktake + "/scans", { code: code, amount: 1 }).then(function (res) {
        C.toast(t("counted_ok", { sku: res.sku, n: res.counted })); showStocktake();
      }).catch(C.fail);
    });
    $("scanner-close").addEventListener("click", closeScanner);
    /* members */
    $("mem-search").addEventListener("submit", function (ev) { ev.preventDefault(); memberSearch(); });
    $("mem-new").addEventListener("submit", function (ev) {
      ev.preventDefault();
      C.api("POST", "/api/members", { name: $("mn-name").value.trim(), phone: $("mn-phone").value.trim() }).then(function (mbr) {
        C.toast(t("created")); $("mem-new").reset(); B.member = mbr.id; memberDetail(mbr.id);
      }).catch(C.fail);
    });
    /* promotions */
    $("pr-new").addEventListener("click", function () { promoEdit(null); });
    $("pr-cancel").addEventListener("click", function () { $("pr-editor").hidden = true; B.promoEditing = null; });
    $("pr-type").addEventListener("change", promoTypeChanged);
    $("pr-form").addEventListener("submit", promoSave);
    $("pv-add").addEventListener("click", function () { pvLine(); });
    $("pv-run").addEventListener("click", promoPreview);
    /* staff */
    $("sf-new").addEventListener("submit", function (ev) {
      ev.preventDefault();
      C.api("POST", "/api/staff", { name: $("sn-name").value.trim(), username: $("sn-user").value.trim(), role: $("sn-role").value,
                                    password: $("sn-pass").value }).then(function () {
        C.toast(t("created")); $("sf-new").reset(); staffList();
      }).catch(C.fail);
    });
    $("ts-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      C.api("GET", "/api/staff/" + $("ts-staff").value + "/timesheet?start=" + $("ts-start").value + "&end=" + $("ts-end").value).then(function (ts) {
        var box = clear($("ts-table"));
        box.appendChild(el("p", "strong", t("total_hours", { h: ts.total_hours })));
        box.appendChild(timesheetTable(ts));
      }).catch(C.fail);
    });
    $("au-form").addEventListener("submit", function (ev) { ev.preventDefault(); auditLoad(); });
    /* reports */
    $("rp-range").addEventListener("submit", function (ev) { ev.preventDefault(); rpSummary(); rpSales(); rpDim(); rpSellers(); rpProfit(); });
    document.querySelectorAll("#rp-by button").forEach(function (b) { b.addEventListener("click", function () { B.rpBy = b.getAttribute("data-by"); rpSales(); }); });
    document.querySelectorAll("#rp-dim button").forEach(function (b) { b.addEventListener("click", function () { B.rpDim = b.getAttribute("data-dim"); rpDim(); }); });
    document.querySelectorAll("#rp-pby button").forEach(function (b) { b.addEventListener("click", function () { B.rpPBy = b.getAttribute("data-by"); rpProfit(); }); });
    $("z-form").addEventListener("submit", function (ev) { ev.preventDefault(); zLoad(); });
    $("z-close").addEventListener("click", function () {
      C.api("POST", "/api/dayclose/" + ($("z-date").value || todayIso()) + "/close").then(function () { C.toast(t("z_closed")); zLoad(); }).catch(C.fail);
    });
    $("ex-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = parseMoney($("exp-amount").value);
      if (isNaN(v) || v <= 0) { C.toast(t("failed", { why: t("amount") })); return; }
      C.api("POST", "/api/expenses", { date: $("exp-date").value, category: $("exp-cat").value, amount: majorText(v), note: $("exp-note").value.trim() }).then(function () {
        C.toast(t("saved")); $("exp-amount").value = ""; $("exp-note").value = ""; rpProfit();
      }).catch(C.fail);
    });
    /* refunds */
    $("rf-find").addEventListener("submit", function (ev) { ev.preventDefault(); clear($("rf-done")); refundFind(); });
    setupScan("rf-scan", "rf-scan-hint", function (code) { $("rf-code").value = code; refundFind(code); });
  }
  function skuList() {
    var dl = $("bo-skus");
    if (!dl) { dl = el("datalist"); dl.id = "bo-skus"; document.body.appendChild(dl); }
    loadProducts().then(function (ps) {
      clear(dl);
      Object.keys(ps).forEach(function (s) { var o = el("option"); o.value = s; o.label = pname(ps[s]); dl.appendChild(o); });
    }).catch(function () {});
  }

  window.TillpiBackOffice = {
    i18n: { en: EN, zh: ZH },
    init: function (ctx) { C = ctx; wire(); },
    signedIn: function () {
      var pages = visiblePages();
      $("bo-toggle").hidden = pages.length === 0;
      document.querySelectorAll(".bo-item").forEach(function (b) { b.hidden = pages.indexOf(b.getAttribute("data-page")) < 0; });
      applyPerms();
      if ((C.S.features || []).indexOf("catalogue") >= 0) skuList();
    },
    signedOut: function () {
      B.products = null; B.productsP = null; B.categories = null; B.member = null; B.refundSale = null; B.stocktake = null;
      $("bo-toggle").hidden = true; toggleMenu(false);
    },
    tabChanged: function (name) {
      if (PAGES[name]) { showPage(name); return; }
      B.page = null;
      $("bo-toggle").setAttribute("aria-selected", "false");
      $("bo-current").textContent = "";
    },
    language: function () {
      if (B.page) showPage(B.page);
    }
  };
})();
