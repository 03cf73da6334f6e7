// The compliance report as a bar chart: one bar per row of the table, coloured like its badges.
(() => {
  const source = document.getElementById("sla-chart-data");
  const canvas = document.getElementById("sla-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const rows = JSON.parse(source.textContent);
  if (!rows.length) {
    canvas.hidden = true;
    return;
  }
  const colour = (value) => (value >= 90 ? "#198754" : value >= 70 ? "#ffc107" : "#dc3545");
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((row) => `${row.key} · ${row.metric.replaceAll("_", " ")}`),
      datasets: [
        {
          label: "Compliance %",
          data: rows.map((row) => row.compliance),
          backgroundColor: rows.map((row) => colour(row.compliance)),
        },
      ],
    },
    options: {
      animation: false,
      aspectRatio: 4,
      scales: { y: { min: 0, max: 100, title: { display: true, text: "% met" } } },
      plugins: { legend: { display: false } },
    },
  });
})();
