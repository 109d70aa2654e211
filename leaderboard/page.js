// Draws the leaderboard from the JSON embedded in the page; no network, no libraries.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("board-data").textContent);
  // Domains in the README's order (comic, manga, art), then by task name.
  var taskNames = Object.keys(data.tasks).sort(function (a, b) {
    var da = data.domain_order.indexOf(data.tasks[a].domain), db = data.domain_order.indexOf(data.tasks[b].domain);
    da = da < 0 ? 99 : da; db = db < 0 ? 99 : db;
    return da !== db ? da - db : a.localeCompare(b);
  });
  var metricKeys = Object.keys(data.metrics).sort();
  var state = { metric: pickDefaultMetric(), sortKey: "rank", descending: false };

  function pickDefaultMetric() {
    var official = taskNames.length ? data.tasks[taskNames[0]].official_metric : metricKeys[0];
    return metricKeys.indexOf(official) >= 0 ? official : metricKeys[0];
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function fmt(v) { return v === null || v === undefined ? "–" : Number(v).toFixed(3); }
  function scoreCell(score, rank) {
    var td = el("td", { "class": "num" }, [fmt(score && score.value)]);
    if (score && score.ci) { td.appendChild(el("span", { "class": "ci" }, ["[" + fmt(score.ci[0]) + ", " + fmt(score.ci[1]) + "]"])); }
    if (rank && rank.rank !== null) {
      td.appendChild(el("span", { "class": "ci" }, ["#" + rank.rank + rankInterval(rank) + (rank.tied ? " =" : "")]));
    }
    return td;
  }
  // The 95 % rank interval of a paired bootstrap over samples, where the board has one.
  function rankInterval(rank) {
    return rank && rank.interval ? " (" + rank.interval[0] + "–" + rank.interval[1] + ")" : "";
  }
  function taskScore(entry, task, metric) {
    var t = entry.tasks[task];
    return t && t.metrics[metric] ? t.metrics[metric] : null;
  }
  function sampleCount(e) {
    var n = 0;
    Object.keys(e.tasks).forEach(function (t) { n += e.tasks[t].n || 0; });
    return n || null;
  }
  function shortTask(task) { return task.replace(/^comic_emotion_/, ""); }
  // lmms-eval writes dates as 20250101_153000 (or 2025-01-01T15-30-00); people read 2025-01-01 15:30.
  function humanDate(text) {
    var m = /^(\d{4})-?(\d{2})-?(\d{2})[T_ ](\d{2})[-:]?(\d{2})/.exec(String(text || ""));
    return m ? m[1] + "-" + m[2] + "-" + m[3] + " " + m[4] + ":" + m[5] : String(text || "–");
  }

  function columns() {
    var cols = [
      { key: "rank", label: "Rank", title: "overall rank with its 95 % rank interval (paired bootstrap over samples) where sample logs were given; = marks a statistical tie",
        value: function (e, i) { var r = data.ranks.overall[i]; return r.rank; }, lowerFirst: true },
      { key: "model", label: "Model", value: function (e) { return e.model + " " + e.checkpoint; }, text: true },
      { key: "overall", label: "Overall", title: "mean over comic, manga, art of the official metric (macro F1)",
        value: function (e) { return e.overall.value; } }
    ];
    taskNames.forEach(function (task) {
      var meta = data.metrics[state.metric];
      cols.push({ key: "task:" + task, label: shortTask(task) + " · " + meta.display_name,
        title: data.tasks[task].dataset + " (" + data.tasks[task].domain + "), v" + data.tasks[task].version +
          ", data " + data.tasks[task].data_hash.slice(0, 12) +
          ": " + meta.description + (meta.lower_is_better ? " (lower is better)" : " (higher is better)"),
        value: function (e) { var s = taskScore(e, task, state.metric); return s ? s.value : null; },
        lowerFirst: meta.lower_is_better, task: task });
    });
    cols.push({ key: "n", label: "Samples", value: sampleCount });
    cols.push({ key: "licence", label: "Licence", value: function (e) { return e.licence.names.join(","); }, text: true });
    cols.push({ key: "lmms", label: "lmms-eval", value: function (e) { return e.lmms_eval_version || ""; }, text: true });
    cols.push({ key: "date", label: "Date", value: function (e) { return e.date; }, text: true });
    return cols;
  }

  function sortedIndices(cols) {
    var col = cols.filter(function (c) { return c.key === state.sortKey; })[0] || cols[0];
    var idx = data.entries.map(function (_, i) { return i; });
    idx.sort(function (a, b) {
      var va = col.value(data.entries[a], a), vb = col.value(data.entries[b], b);
      var na = va === null || va === undefined || va === "", nb = vb === null || vb === undefined || vb === "";
      if (na || nb) { return na === nb ? a - b : (na ? 1 : -1); }  // missing values always last
      var cmp = col.text ? String(va).localeCompare(String(vb)) : va - vb;
      if (state.descending) { cmp = -cmp; }
      if (cmp !== 0) { return cmp; }
      // Equal (e.g. tied ranks): higher overall score first, then board order.
      var oa = data.entries[a].overall.value, ob = data.entries[b].overall.value;
      return oa !== ob && oa !== null && ob !== null ? ob - oa : a - b;
    });
    return idx;
  }

  function drawBoard() {
    var table = document.getElementById("leaderboard");
    var cols = columns();
    var head = el("tr");
    cols.forEach(function (c) {
      var th = el("th", { "class": "sortable", "data-sort": c.key, title: c.title || "Sort by " + c.label }, [c.label]);
      if (c.key === state.sortKey) { th.setAttribute("aria-sort", state.descending ? "descending" : "ascending"); }
      th.addEventListener("click", function () {
        if (state.sortKey === c.key) { state.descending = !state.descending; }
        else { state.sortKey = c.key; state.descending = !(c.text || c.lowerFirst); }
        drawBoard();
      });
      head.appendChild(th);
    });
    table.tHead.replaceChildren(head);
    var body = table.tBodies[0];
    body.replaceChildren();
    sortedIndices(cols).forEach(function (i) {
      var e = data.entries[i], r = data.ranks.overall[i];
      var tr = el("tr", { "data-key": e.key });
      tr.appendChild(el("td", { "class": "num" }, [r.rank === null ? "–" : String(r.rank)].concat(
        r.interval ? [el("span", { "class": "ci", title: "95 % rank interval (paired bootstrap over samples); tie group " + r.group }, [rankInterval(r)])] : [],
        r.tied ? [el("span", { "class": "tie", title: r.interval ? "tied: rank intervals overlap (group " + r.group + ")" : "tied: CI overlaps" }, [" ="])] : [])));
      var modelCell = el("td", {}, [el("span", { "class": "model" }, [e.model]), el("span", { "class": "ckpt" }, [e.checkpoint === "-" ? "default model_args" : e.checkpoint])]);
      if (e.stage) { modelCell.appendChild(el("span", { "class": "badge" }, ["stage " + e.stage.index + ": " + e.stage.name])); }
      if (data.viewers[e.key]) { modelCell.appendChild(el("a", { href: data.viewers[e.key] }, ["samples →"])); }
      tr.appendChild(modelCell);
      tr.appendChild(scoreCell(e.overall, r));
      taskNames.forEach(function (task) {
        tr.appendChild(scoreCell(taskScore(e, task, state.metric), data.ranks[task + "/" + state.metric][i]));
      });
      tr.appendChild(el("td", { "class": "num" }, [String(sampleCount(e) || "–")]));
      var badges = el("td", {});
      e.licence.names.forEach(function (n) { badges.appendChild(el("span", { "class": "badge" }, [n])); });
      if (e.licence.non_commercial) { badges.appendChild(el("span", { "class": "badge nc" }, ["non-commercial"])); }
      if (data.data === "demo") { badges.appendChild(el("span", { "class": "badge demo" }, ["demo data"])); }
      if (e.partial) { badges.appendChild(el("span", { "class": "badge partial", "title": e.partial.note }, ["partial run"])); }
      tr.appendChild(badges);
      tr.appendChild(el("td", {}, [e.lmms_eval_version || "–"]));
      tr.appendChild(el("td", { title: e.date }, [humanDate(e.date)]));
      body.appendChild(tr);
    });
    document.getElementById("entry-count").textContent = data.entries.length + " entries";
  }

  function simpleTable(id, header, rows) {
    var table = document.getElementById(id);
    table.tHead.replaceChildren(el("tr", {}, header.map(function (h) { return el("th", {}, [h]); })));
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows.map(function (cells) {
      return el("tr", {}, cells.map(function (c) { return c instanceof Node ? c : el("td", {}, [String(c)]); }));
    }));
  }
  function delta(v) {
    if (v === null || v === undefined) { return el("td", { "class": "num" }, ["–"]); }
    return el("td", { "class": "num " + (v > 0 ? "delta-up" : v < 0 ? "delta-down" : "") }, [(v > 0 ? "+" : "") + v.toFixed(3)]);
  }

  function drawExtras() {
    var robust = [];
    data.entries.forEach(function (e) {
      Object.keys(e.robustness || {}).sort().forEach(function (ds) {
        var r = e.robustness[ds], w = r.worst_case;
        robust.push([e.model, e.checkpoint, ds, fmt(r.mce), fmt(r.relative_mce),
          w ? w.perturbation + " s" + w.severity + " (" + fmt(w.score) + ")" : "–"]);
      });
    });
    if (robust.length) {
      document.getElementById("robustness-section").hidden = false;
      simpleTable("robustness", ["Model", "Checkpoint", "Dataset", "mCE", "relative mCE", "worst case"], robust);
    }
    if (data.stages.length) {
      document.getElementById("stages-section").hidden = false;
      var keys = ["overall"].concat(taskNames);
      simpleTable("stages", ["Base", "Stage"].concat(keys.map(function (k) { return "Δ " + shortTask(k); })),
        data.stages.map(function (s) {
          return [s.base, s.index + ": " + s.stage].concat(keys.map(function (k) { return delta(s.deltas[k]); }));
        }));
    }
    var notes = document.getElementById("metric-notes");
    metricKeys.forEach(function (m) {
      var meta = data.metrics[m];
      notes.appendChild(el("dt", {}, [meta.display_name + " (" + meta.group + ")"]));
      notes.appendChild(el("dd", {}, [meta.description + "; " + (meta.lower_is_better ? "lower" : "higher") + " is better."]));
    });
    simpleTable("tasks", ["Task", "Dataset", "Domain", "Split", "Version", "Official metric", "Data hash"],
      taskNames.map(function (t) {
        var h = data.tasks[t];
        var official = data.metrics[h.official_metric] ? data.metrics[h.official_metric].display_name : h.official_metric;
        return [t, h.dataset, h.domain, h.split, h.version, official, h.data_hash.slice(0, 12)];
      }));
    var select = document.getElementById("metric-select");
    metricKeys.forEach(function (m) {
      var option = el("option", { value: m }, [data.metrics[m].display_name]);
      if (m === state.metric) { option.selected = true; }
      select.appendChild(option);
    });
    select.addEventListener("change", function () { state.metric = select.value; drawBoard(); });
    document.getElementById("schema-version").textContent = data.schema_version;
    document.getElementById("demo-banner").hidden = data.data !== "demo";
  }

  drawExtras();
  drawBoard();
}());
