-- wrk: prints one RESULT line with the latency percentiles (ms) and errors.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f requests=%d rps=%.0f non2xx_or_errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, summary.requests / (summary.duration / 1e6),
    e.connect + e.read + e.write + e.timeout + e.status))
end
