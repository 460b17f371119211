// The Prometheus client of the live analysis: decoding of instant-query
// answers (every shape Prometheus sends, and what it must not be mistaken
// for), and the HTTP client's handling of addresses, connection faults,
// deadlines, size limits and TLS. Queries against a real Prometheus are in
// e2e/tests/prometheus_client_test.cpp.

#include "operator/kube/prometheus.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <thread>

#include "support/guarded.hpp"
#include "support/scripted_tls_server.hpp"
#include "support/test_pki.hpp"
#include "support/transport_harness.hpp"

namespace cd4ml::kube {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// Decoding

PromResult decode_ok(std::string_view body) {
  return parse_prom_response(200, body);
}

std::string vector_of_values(const std::vector<std::string>& values) {
  std::string result;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) result += ",";
    result += R"({"metric":{"i":")" + std::to_string(i) + R"("},"value":[1700000000.123,")" +
              values[i] + R"("]})";
  }
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}";
}

std::string scalar_of(std::string_view pair) {
  return R"({"status":"success","data":{"resultType":"scalar","result":)" + std::string(pair) +
         "}}";
}

TEST(PromResponse, DecodesAVectorOfOneSeriesWithItsLabels) {
  const auto result =
      decode_ok(R"({"status":"success","data":{"resultType":"vector","result":[)"
                R"({"metric":{"__name__":"up","job":"prometheus","instance":"127.0.0.1:9090"},)"
                R"("value":[1700000000.123,"0.97"]}]}})");

  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.error, "");
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].labels,
            (std::map<std::string, std::string>{
                {"__name__", "up"}, {"job", "prometheus"}, {"instance", "127.0.0.1:9090"}}));
  EXPECT_DOUBLE_EQ(result.samples[0].value, 0.97);
}

TEST(PromResponse, DecodesAnEmptyVectorAsNoSamples) {
  const auto result =
      decode_ok(R"({"status":"success","data":{"resultType":"vector","result":[]}})");

  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.samples.empty());
}

TEST(PromResponse, DecodesAVectorOfTwoSeriesInOrder) {
  const auto result = decode_ok(R"({"status":"success","data":{"resultType":"vector","result":[)"
                                R"({"metric":{"revision":"a"},"value":[1700000000,"1"]},)"
                                R"({"metric":{},"value":[1700000000.5,"-2.5e-3"]}]}})");

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 2u);
  EXPECT_EQ(result.samples[0].labels, (std::map<std::string, std::string>{{"revision", "a"}}));
  EXPECT_EQ(result.samples[0].value, 1.0);
  EXPECT_TRUE(result.samples[1].labels.empty());
  EXPECT_DOUBLE_EQ(result.samples[1].value, -0.0025);
}

TEST(PromResponse, DecodesAScalarAsOneSampleWithoutLabels) {
  const auto result = decode_ok(scalar_of(R"([1700000000.123,"0.5"])"));

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_TRUE(result.samples[0].labels.empty());
  EXPECT_EQ(result.samples[0].value, 0.5);
}

TEST(PromResponse, KeepsNaNAndInfinities) {
  const auto result = decode_ok(vector_of_values({"NaN", "+Inf", "-Inf"}));

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 3u);
  EXPECT_TRUE(std::isnan(result.samples[0].value));
  EXPECT_TRUE(std::isinf(result.samples[1].value) && result.samples[1].value > 0);
  EXPECT_TRUE(std::isinf(result.samples[2].value) && result.samples[2].value < 0);

  const auto scalar = decode_ok(scalar_of(R"([1700000000,"NaN"])"));
  ASSERT_TRUE(scalar.ok) << scalar.error;
  EXPECT_TRUE(std::isnan(scalar.samples.at(0).value));
}

TEST(PromResponse, AcceptsEveryDecimalAndExponentForm) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"0", 0.0},
      {"-0", -0.0},
      {"42", 42.0},
      {"0.97", 0.97},
      {"1e6", 1e6},
      {"1E+06", 1e6},
      {"-2.5e-3", -0.0025},
      {".5", 0.5},
      {"+1.5", 1.5},
      {"5.", 5.0},
      {"1.7976931348623157e308", 1.7976931348623157e308}};
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    const auto result = decode_ok(vector_of_values({text}));
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.samples.at(0).value, expected);
  }
}

TEST(PromResponse, RefusesValuesThatAreNotPrometheusFloatsAndNamesThem) {
  // Each of these is taken by strtod or from_chars in some form; none is
  // what Prometheus writes.
  for (const std::string text : {"abc", "1.5x", "", " 1", "1 ", "0x1p3", "inf", "nan", "Infinity",
                                 "+-1", "1e", "--1", "1e400", "1,5", "Inf"}) {
    SCOPED_TRACE(text);
    const auto result = decode_ok(vector_of_values({text}));
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.samples.empty());
    EXPECT_THAT(result.error, HasSubstr("data.result[0].value[1]"));
    EXPECT_THAT(result.error, HasSubstr("\"" + text + "\""));
  }
}

TEST(PromResponse, RefusesAValueGivenAsANumberInsteadOfAString) {
  const auto in_vector = decode_ok(R"({"status":"success","data":{"resultType":"vector","result":[)"
                                   R"({"metric":{},"value":[1700000000,0.97]}]}})");
  EXPECT_FALSE(in_vector.ok);
  EXPECT_EQ(in_vector.error,
            "Prometheus's answer is malformed: data.result[0].value[1] (the sample's value) is a "
            "number, not a string such as \"0.97\"");

  const auto in_scalar = decode_ok(scalar_of("[1700000000,0.5]"));
  EXPECT_FALSE(in_scalar.ok);
  EXPECT_THAT(in_scalar.error, HasSubstr("data.result[1] (the sample's value) is a number"));
}

TEST(PromResponse, GivesPrometheusOwnWordsForEachErrorType) {
  struct Case {
    int status;
    std::string type;
    std::string message;
  };
  const std::vector<Case> cases = {
      {400, "bad_data",
       R"(invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis)"},
      {422, "execution", "expanding series: context deadline exceeded"},
      {503, "unavailable", "TSDB not ready"},
      {503, "timeout", "query timed out in expression evaluation"},
      {500, "internal", "unexpected end of JSON input"},
      {499, "canceled", "context canceled"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    const auto result =
        parse_prom_response(c.status, R"({"status":"error","errorType":")" + c.type +
                                          R"(","error":")" + c.message + R"("})");
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.samples.empty());
    std::string unescaped = c.message;
    for (auto at = unescaped.find("\\\""); at != std::string::npos; at = unescaped.find("\\\"")) {
      unescaped.erase(at, 1);
    }
    EXPECT_EQ(result.error, c.type + ": " + unescaped);
  }
}

TEST(PromResponse, SaysSoWhenAnErrorAnswerGivesNoReason) {
  const auto result = parse_prom_response(400, R"({"status":"error","errorType":"bad_data"})");

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Prometheus refused the query (HTTP 400, bad_data) without saying why");
}

TEST(PromResponse, QuotesTheStartOfAnHtmlPageFromAProxy) {
  const std::string page =
      "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not "
      "Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" +
      std::string(500, 'x');

  const auto result = parse_prom_response(404, page);

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error,
              StartsWith("HTTP 404 from Prometheus: \"<html> <head><title>404 Not Found</title>"));
  EXPECT_THAT(result.error, HasSubstr("<center>nginx</center>"));
  EXPECT_LT(result.error.size(), 260u);  // the first 200 characters and a few words
  EXPECT_THAT(result.error, HasSubstr("...\""));
}

TEST(PromResponse, NamesTheStatusOfAnAnswerWithoutBody) {
  const auto result = parse_prom_response(502, "");

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "HTTP 502 from Prometheus: an empty body");
}

TEST(PromResponse, KeepsOnlyPrintableCharactersOfAnUnexpectedBody) {
  const auto result = parse_prom_response(500, std::string("bad\0\x01\x1b[31m\xff gateway", 19));

  EXPECT_EQ(result.error, "HTTP 500 from Prometheus: \"bad[31m gateway\"");
}

TEST(PromResponse, RefusesA200ThatIsNotJson) {
  const auto result = parse_prom_response(200, "<html>hello</html>");

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, StartsWith("Prometheus's answer is not JSON ("));
  EXPECT_THAT(result.error, HasSubstr("\"<html>hello</html>\""));
}

TEST(PromResponse, RefusesASuccessBodyWithAnErrorStatus) {
  const auto result =
      parse_prom_response(500, R"({"status":"success","data":{"resultType":"scalar",)"
                               R"("result":[1,"1"]}})");

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, StartsWith("HTTP 500 from Prometheus with a \"success\" body"));
}

TEST(PromResponse, RefusesARangeVectorOrAStringResult) {
  const auto matrix = decode_ok(R"({"status":"success","data":{"resultType":"matrix","result":[)"
                                R"({"metric":{},"values":[[1700000000,"1"],[1700000015,"1"]]}]}})");
  EXPECT_FALSE(matrix.ok);
  EXPECT_EQ(matrix.error,
            "the query gave a range vector (matrix) result; an analysis query must return an "
            "instant vector or a scalar");

  const auto string = decode_ok(
      R"({"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}})");
  EXPECT_FALSE(string.ok);
  EXPECT_EQ(string.error,
            "the query gave a string result; an analysis query must return an instant vector or "
            "a scalar");
}

TEST(PromResponse, RefusesANativeHistogramSample) {
  const auto result = decode_ok(
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{},"histogram":[1700000000,{"count":"2","sum":"3","buckets":[]}]}]}})");

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, HasSubstr("data.result[0] is a native histogram sample"));
}

TEST(PromResponse, NamesTheMissingOrMistypedField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([1,2])", "not an API answer (no \"status\")"},
      {R"({"data":{}})", "not an API answer (no \"status\")"},
      {R"({"status":"pending"})", "unknown status \"pending\""},
      {R"({"status":"success"})", "has no \"data\""},
      {R"({"status":"success","data":[]})", "\"data\" is an array, not an object"},
      {R"({"status":"success","data":{"result":[]}})", "has no \"data.resultType\""},
      {R"({"status":"success","data":{"resultType":7,"result":[]}})",
       "\"data.resultType\" is a number, not a string"},
      {R"({"status":"success","data":{"resultType":"vector"}})", "has no \"data.result\""},
      {R"({"status":"success","data":{"resultType":"histogram","result":[]}})",
       "unknown resultType \"histogram\""},
      {R"({"status":"success","data":{"resultType":"vector","result":{}}})",
       "vector result is an object, not an array"},
      {R"({"status":"success","data":{"resultType":"vector","result":[3]}})",
       "data.result[0] is a number, not a series object"},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}})",
       "data.result[0] has no \"metric\""},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":[],"value":[1,"1"]}]}})",
       "data.result[0].metric is an array, not an object of labels"},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}})",
       "data.result[0].metric[\"a\"] is a number, not a string"},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}})",
       "data.result[0] has no \"value\""},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1",2]}]}})",
       "data.result[0].value is an array of 3 elements, not [<time>, \"<value>\"]"},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":"1"}]}})",
       "data.result[0].value is a string, not [<time>, \"<value>\"]"},
      {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","1"]}]}})",
       "data.result[0].value[0] (the sample's time) is a string, not a number"},
      {R"({"status":"success","data":{"resultType":"scalar","result":null}})",
       "data.result is null, not [<time>, \"<value>\"]"},
  };
  for (const auto& [body, expected] : cases) {
    SCOPED_TRACE(body);
    const auto result = decode_ok(body);
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.samples.empty());
    EXPECT_THAT(result.error, HasSubstr(expected));
  }
}

TEST(PromResponse, RefusesEveryTruncationOfAnAnswer) {
  const std::string whole = vector_of_values({"1", "2"});
  ASSERT_TRUE(decode_ok(whole).ok);
  for (std::size_t size = 0; size < whole.size(); ++size) {
    SCOPED_TRACE(size);
    const auto result = decode_ok(std::string_view(whole).substr(0, size));
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.error.empty());
  }
}

TEST(PromResponse, RefusesDeeplyNestedJsonBeforeBuildingIt) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');

  const auto result = decode_ok(deep);

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, HasSubstr("nests deeper than 64 levels"));
}

// ---------------------------------------------------------------------------
// The client

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using test_support::Guarded;

const auto kAt = std::chrono::system_clock::time_point(1700000000123ms);

PromResult query(const std::string& address, PromClientOptions options = {},
                 std::string token = {}) {
  PromEndpoint endpoint;
  endpoint.address = address;
  endpoint.bearer_token = std::move(token);
  return make_prom_client(std::move(options))->query(endpoint, "vector(1)", kAt);
}

// A plain TCP listener on 127.0.0.1 that plays a script on the one
// connection it accepts. It exists only for wire-level faults a real
// Prometheus cannot be made to produce on demand: an accepted connection that
// never answers, an answer over the size limit, a connection cut in the
// middle of an answer, a server that does not speak HTTP. Everything a real
// Prometheus does is tested against one in e2e/tests/prometheus_client_test.cpp.
class FaultyListener {
 public:
  class Connection {
   public:
    Connection(tcp::socket& socket, const Guarded<bool>& released)
        : socket_(socket), released_(released) {}

    // Reads the request's head (a GET has no body); false if the client left.
    bool read_request() {
      std::string head;
      char data[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        boost::system::error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(data), ec);
        if (ec) return false;
        head.append(data, n);
      }
      return true;
    }

    void write(std::string_view bytes) {
      boost::system::error_code ec;
      asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    }

    // Keeps the connection open, silent, until the test is over.
    void hold_until_released() {
      released_.wait_until([](bool released) { return released; }, 60s);
    }

   private:
    tcp::socket& socket_;
    const Guarded<bool>& released_;
  };

  using Script = std::function<void(Connection&)>;

  explicit FaultyListener(Script script)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
        thread_([this, s = std::move(script)] { serve(s); }) {}

  ~FaultyListener() {
    released_.update([](bool& released) { released = true; });
    // Wakes a blocking accept() when the client never came.
    tcp::socket waker(io_);
    boost::system::error_code ignored;
    waker.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }

  FaultyListener(const FaultyListener&) = delete;
  FaultyListener& operator=(const FaultyListener&) = delete;

  std::string address() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  void serve(const Script& script) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec || released_.get()) return;
    Connection connection(socket, released_);
    script(connection);
  }

  asio::io_context io_;  // for sockets only: all I/O here is blocking
  tcp::acceptor acceptor_;
  Guarded<bool> released_;
  std::thread thread_;  // last: it uses everything above
};

TEST(PromClient, RefusesAddressesItCannotUse) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp://x", "must start with http:// or https://"},
      {"127.0.0.1:9090", "must start with http:// or https://"},
      {"http://", "has no host"},
      {"http://:9090", "has no host"},
      {"http://host:notaport", "has an invalid port \"notaport\""},
      {"http://host:", "has an invalid port \"\""},
      {"http://host:0", "has an invalid port \"0\""},
      {"http://host:65536", "has an invalid port \"65536\""},
      {"http://host:+80", "has an invalid port \"+80\""},
      {"http://bad host", "has an invalid host \"bad host\""},
      {"http://999.1.1.1", "has an invalid IPv4 address \"999.1.1.1\""},
      {"http://[::1", "has an unterminated IPv6 address"},
      {"http://[nope]:9090", "has an invalid IPv6 address \"nope\""},
      {"http://[::1]9090", "has junk after its IPv6 address"},
      {"http://::1:9090", "has an IPv6 address without brackets; write e.g. http://[::1]:9090"},
      {"http://user:pw@host", "carries user information"},
      {"http://host/prom?x=1", "has a path with a query"},
      {"http://host/a#b", "has a path with a query"},
  };
  for (const auto& [address, expected] : cases) {
    SCOPED_TRACE(address);
    const auto result = query(address);
    EXPECT_FALSE(result.ok);
    EXPECT_THAT(result.error, StartsWith("Prometheus address \"" + address + "\" " + expected));
  }
}

TEST(PromClient, RefusesToSendABearerTokenOverPlainHttp) {
  const std::string address =
      "http://127.0.0.1:" + std::to_string(test_support::unused_port()) + "/prom";

  const auto result = query(address, {}, "secret");

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "a bearer token is only sent over https; Prometheus address \"" +
                              address + "\" is plain http");
}

TEST(PromClient, RefusesPlainHttpWhenACaIsGiven) {
  const std::string address = "http://127.0.0.1:" + std::to_string(test_support::unused_port());
  PromEndpoint endpoint;
  endpoint.address = address;
  endpoint.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

  const auto result = make_prom_client()->query(endpoint, "vector(1)", kAt);

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error,
            "a CA is only used over https; Prometheus address \"" + address + "\" is plain http");
}

TEST(PromClient, ReportsAPrometheusThatIsNotListening) {
  const std::string address = "http://127.0.0.1:" + std::to_string(test_support::unused_port());

  const auto result = query(address);

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Prometheus at " + address + " is unreachable: Connection refused");
}

TEST(PromClient, GivesUpOnAConnectionThatNeverAnswersAtTheDeadline) {
  FaultyListener listener([](FaultyListener::Connection& c) {
    if (c.read_request()) c.hold_until_released();
  });
  PromClientOptions options;
  options.timeout = 300ms;

  const auto start = std::chrono::steady_clock::now();
  const auto result = query(listener.address(), options);
  const auto took = std::chrono::steady_clock::now() - start;

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "no answer from Prometheus at " + listener.address() + " within 300ms");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
}

TEST(PromClient, RefusesAnAnswerLargerThanTheLimit) {
  const std::string body(5000, ' ');
  FaultyListener listener([&body](FaultyListener::Connection& c) {
    if (!c.read_request()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n");
    c.write(body);
  });
  PromClientOptions options;
  options.max_body_bytes = 1024;

  const auto result = query(listener.address(), options);

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error,
            "Prometheus at " + listener.address() + " sent an answer larger than 1024 bytes");
}

TEST(PromClient, RefusesAChunkedAnswerThatGrowsPastTheLimit) {
  FaultyListener listener([](FaultyListener::Connection& c) {
    if (!c.read_request()) return;
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 10; ++i) {
      c.write("200\r\n" + std::string(0x200, ' ') + "\r\n");
    }
    c.write("0\r\n\r\n");
  });
  PromClientOptions options;
  options.max_body_bytes = 1024;

  const auto result = query(listener.address(), options);

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, HasSubstr("sent an answer larger than 1024 bytes"));
}

TEST(PromClient, ReportsAConnectionClosedInTheMiddleOfTheAnswer) {
  FaultyListener listener([](FaultyListener::Connection& c) {
    if (!c.read_request()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
    c.write(R"({"status":"success","data":{"resu)");
  });  // the socket closes when the script returns

  const auto result = query(listener.address());

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, StartsWith("Prometheus at " + listener.address() +
                                       " closed the connection in the middle of its answer"));
}

TEST(PromClient, ReportsAConnectionClosedWithoutAnswer) {
  FaultyListener listener([](FaultyListener::Connection& c) { c.read_request(); });

  const auto result = query(listener.address());

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error,
            "Prometheus at " + listener.address() + " closed the connection without answering");
}

TEST(PromClient, ReportsAServerThatDoesNotSpeakHttp) {
  FaultyListener listener([](FaultyListener::Connection& c) {
    if (c.read_request()) c.write("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  });

  const auto result = query(listener.address());

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, StartsWith("Prometheus at " + listener.address() +
                                       " sent something that is not an HTTP answer ("));
}

TEST(PromClient, NamesTheConfigurationWhenTheCaIsNotPem) {
  PromEndpoint endpoint;
  endpoint.address = "https://127.0.0.1:" + std::to_string(test_support::unused_port());
  endpoint.ca_pem = "not a certificate";

  const auto result = make_prom_client()->query(endpoint, "vector(1)", kAt);

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error,
              HasSubstr("certificate authority data of Prometheus at " + endpoint.address));
}

// One https test server: the client's TLS is the Kubernetes client's
// (operator/kube/tls.cpp), tested at length in transport_tls_test.cpp.
class PromClientTls : public ::testing::Test {
 protected:
  test_support::TestPki pki_ = test_support::make_test_pki();
  test_support::ScriptedTlsServer server_{
      pki_.server, test_support::answer_each([](test_support::ServerConnection& c,
                                                const test_support::ReceivedRequest&) {
        c.respond(200, R"({"status":"success","data":{"resultType":"vector","result":[)"
                       R"({"metric":{"job":"a"},"value":[1700000000.123,"0.25"]}]}})");
      })};
  std::string address_ = "https://127.0.0.1:" + std::to_string(server_.port());
};

TEST_F(PromClientTls, VerifiesTheServerWithTheGivenCaAndSendsTheQueryWithTheToken) {
  PromEndpoint endpoint;
  endpoint.address = address_ + "/prom/";
  endpoint.ca_pem = pki_.ca.cert;
  endpoint.bearer_token = "s3cret";

  const auto result = make_prom_client()->query(endpoint, R"(up{job="a"} > 0.5)", kAt);

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].value, 0.25);
  const auto log = server_.log();
  ASSERT_EQ(log.requests.size(), 1u);
  const auto& request = log.requests[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target,
            "/prom/api/v1/query?query=up%7Bjob%3D%22a%22%7D%20%3E%200.5&time=1700000000.123");
  EXPECT_EQ(request.header("authorization"), "Bearer s3cret");
  EXPECT_EQ(request.header("accept"), "application/json");
  EXPECT_EQ(request.header("host"), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_THAT(request.header("user-agent"), StartsWith("cd4ml-operator/"));
}

TEST_F(PromClientTls, RefusesAServerTheSystemTrustStoreDoesNotKnowAndSaysWhy) {
  PromEndpoint endpoint;
  endpoint.address = address_;

  const auto result = make_prom_client()->query(endpoint, "vector(1)", kAt);

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error,
              StartsWith("TLS handshake with Prometheus at " + address_ + " failed: "));
  EXPECT_THAT(result.error, HasSubstr("certificate verify failed"));
  EXPECT_THAT(result.error, HasSubstr("unable to get local issuer certificate"));
  EXPECT_TRUE(server_.log().requests.empty());
}

}  // namespace
}  // namespace cd4ml::kube
