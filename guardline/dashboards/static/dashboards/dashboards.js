// Dashboard charts (ECharts, served locally). The figures come from the page's JSON data island
// (<script type="application/json" id="dashboard-data">, Django's json_script): no inline script (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const island = document.getElementById("dashboard-data");
  if (!island || typeof echarts === "undefined") return;
  const data = JSON.parse(island.textContent);
  const labels = data.labels || {};
  const charts = [];
  const make = (name, option) => {
    const el = document.querySelector(`[data-chart="${name}"]`);
    if (!el) return;
    const chart = echarts.init(el);
    chart.setOption(option);
    charts.push(chart);
  };
  const entries = (obj, names) => Object.keys(obj).map((k) => ({ name: (names || {})[k] || k, value: obj[k] }));
  const colours = { red: "#dc3545", yellow: "#ffc107", green: "#198754" };
  make("grades", {
    tooltip: { trigger: "item" },
    series: [{
      type: "pie", radius: ["40%", "70%"],
      data: Object.keys(data.grades).map((g) => ({
        name: labels.grades[g], value: data.grades[g], itemStyle: { color: colours[g] },
      })),
    }],
  });
  const bar = (obj, names) => {
    const rows = entries(obj, names);
    return {
      tooltip: {}, grid: { left: 110, right: 16, top: 8, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map((r) => r.name) },
      series: [{ type: "bar", data: rows.map((r) => r.value), itemStyle: { color: "#198754" } }],
    };
  };
  make("categories", bar(data.categories, labels.categories));
  make("risks", bar(data.risks, labels.risks));
  const lines = (metrics, type) => ({
    tooltip: { trigger: "axis" }, legend: { bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 56 },
    xAxis: { type: "category", data: data.periods },
    yAxis: { type: "value", minInterval: 1 },
    series: metrics.map((m) => ({ name: labels.series[m], type: type || "line", data: data.series[m] })),
  });
  make("flows", lines(["warn_opened", "warn_closed", "warn_converted", "id_identified"]));
  make("exits", lines(["elim_assisted", "elim_natural", "id_returned"], "bar"));
  make("stock", lines(["hh_monitored", "hh_grade_red"]));
  const inc = data.income;
  const incNames = document.documentElement.lang.startsWith("en")
    ? ["monitored", "former poor", "rural average", "monitoring line"]
    : ["监测户", "脱贫户", "农户平均", "监测线"];
  make("income", {
    tooltip: {}, grid: { left: 60, right: 16, top: 16, bottom: 24 },
    xAxis: { type: "category", data: incNames },
    yAxis: { type: "value" },
    series: [{
      type: "bar",
      data: [inc.monitored, inc.former_poor, inc.rural, inc.line].map((v) => (v === null ? 0 : Math.round(v))),
      itemStyle: { color: "#0d6efd" },
    }],
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
});
