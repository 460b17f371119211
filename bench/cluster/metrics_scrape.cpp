#include "bench/cluster/metrics_scrape.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
#include <utility>
// this comment keeps clang-format from sorting <utility> after it.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sstream>
#include <stdexcept>

namespace cd4ml::bench {

namespace {

// One `name{k="v",...} value [timestamp]` line; false when it is not one.
bool parse_line(const std::string& line, MetricSample& out) {
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  out.name = line.substr(0, i);
  out.labels.clear();
  if (out.name.empty()) return false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      const std::string key = line.substr(i, eq - i);
      std::string value;
      std::size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value.push_back(line[j] == 'n' ? '\n' : line[j]);
        } else {
          value.push_back(line[j]);
        }
      }
      if (j >= line.size()) return false;
      out.labels.emplace(key, std::move(value));
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  while (i < line.size() && line[i] == ' ') ++i;
  const std::size_t end = line.find(' ', i);
  try {
    out.value = std::stod(line.substr(i, end == std::string::npos ? std::string::npos : end - i));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

std::vector<MetricSample> parse_metrics_text(const std::string& text) {
  std::vector<MetricSample> samples;
  std::istringstream in(text);
  std::string line;
  MetricSample sample;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (parse_line(line, sample)) samples.push_back(sample);
  }
  return samples;
}

std::vector<MetricSample> scrape_metrics(const std::string& host_port) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using boost::asio::ip::tcp;
  const std::size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("not host:port: " + host_port);
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.connect(resolver.resolve(host_port.substr(0, colon), host_port.substr(colon + 1)));
  http::request<http::empty_body> request{http::verb::get, "/metrics", 11};
  request.set(http::field::host, host_port);
  request.set(http::field::connection, "close");
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (response.result() != http::status::ok) {
    throw std::runtime_error("GET /metrics answered " + std::to_string(response.result_int()));
  }
  return parse_metrics_text(response.body());
}

double metric_sum(const std::vector<MetricSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      const auto it = s.labels.find(key);
      if (it == s.labels.end() || it->second != value) match = false;
    }
    if (match) sum += s.value;
  }
  return sum;
}

nlohmann::json request_delta(const std::vector<MetricSample>& before,
                             const std::vector<MetricSample>& after) {
  // resource -> verb -> count and code -> count, after minus before.
  std::map<std::string, std::map<std::string, double>> by_resource;
  std::map<std::string, double> by_code;
  const auto add = [&](const std::vector<MetricSample>& samples, double sign) {
    for (const auto& s : samples) {
      if (s.name != "rest_client_requests_total") continue;
      const auto label = [&](const char* key) {
        const auto it = s.labels.find(key);
        return it == s.labels.end() ? std::string("?") : it->second;
      };
      by_resource[label("resource")][label("verb")] += sign * s.value;
      by_code[label("code")] += sign * s.value;
    }
  };
  add(after, 1);
  add(before, -1);
  nlohmann::json out = {{"by_resource", nlohmann::json::object()},
                        {"by_code", nlohmann::json::object()}};
  for (const auto& [resource, verbs] : by_resource) {
    for (const auto& [verb, count] : verbs) {
      if (count != 0) out["by_resource"][resource][verb] = count;
    }
  }
  for (const auto& [code, count] : by_code) {
    if (count != 0) out["by_code"][code] = count;
  }
  return out;
}

}  // namespace cd4ml::bench
