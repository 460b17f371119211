#include "operator/kube/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>
#include <climits>
#include <memory>

namespace cd4ml::kube {
namespace {

namespace ssl = boost::asio::ssl;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509InfoStackFree {
  void operator()(STACK_OF(X509_INFO) * infos) const {
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
  }
};

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    return nullptr;
  }
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string where(const ClusterConfig& config) {
  if (!config.description.empty()) {
    return config.description;
  }
  return config.server.empty() ? std::string("the cluster configuration") : config.server;
}

// Text of the most recent OpenSSL error, consuming the thread's error queue so
// that it cannot be mistaken for the cause of a later failure.
std::string take_openssl_error() {
  unsigned long last = 0;
  while (const unsigned long code = ERR_get_error()) {
    last = code;
  }
  if (last == 0) {
    return "unknown OpenSSL error";
  }
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(last);
}

// Adds every certificate of a PEM bundle to the context's trust store; a
// cluster CA file often holds several (rotation, intermediate CAs).
void add_trusted_certificates(ssl::context& context, const std::string& pem,
                              const ClusterConfig& config) {
  auto bio = memory_bio(pem);
  if (!bio) {
    throw ConfigError("cannot read certificate authority data of " + where(config) + ": " +
                      take_openssl_error());
  }
  std::unique_ptr<STACK_OF(X509_INFO), X509InfoStackFree> infos(
      PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr));
  if (!infos) {
    throw ConfigError("certificate authority data of " + where(config) +
                      " is not valid PEM: " + take_openssl_error());
  }
  X509_STORE* store = SSL_CTX_get_cert_store(context.native_handle());
  int added = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos.get()); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
    if (info->x509 == nullptr) {
      continue;
    }
    if (X509_STORE_add_cert(store, info->x509) != 1) {
      throw ConfigError("cannot trust a certificate authority of " + where(config) + ": " +
                        take_openssl_error());
    }
    ++added;
  }
  ERR_clear_error();
  if (added == 0) {
    throw ConfigError("certificate authority data of " + where(config) +
                      " holds no PEM certificate");
  }
}

void use_client_certificate(ssl::context& context, const ClusterConfig& config) {
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    throw ConfigError("user of " + where(config) +
                      " has a client certificate without a key or a key without a certificate");
  }
  if (config.client_cert_pem.empty()) {
    return;
  }
  auto cert_bio = memory_bio(config.client_cert_pem);
  std::unique_ptr<X509, X509Free> cert(
      cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    throw ConfigError("client certificate of " + where(config) +
                      " is not a PEM certificate: " + take_openssl_error());
  }
  auto key_bio = memory_bio(config.client_key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    throw ConfigError("client key of " + where(config) +
                      " is not a PEM private key: " + take_openssl_error());
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw ConfigError("client key of " + where(config) + " does not match its client certificate");
  }
  try {
    // The whole chain: a client certificate may come with intermediates.
    context.use_certificate_chain(boost::asio::buffer(config.client_cert_pem));
  } catch (const boost::system::system_error& e) {
    ERR_clear_error();
    throw ConfigError("client certificate of " + where(config) +
                      " cannot be used: " + e.code().message());
  }
  if (SSL_CTX_use_PrivateKey(context.native_handle(), key.get()) != 1) {
    throw ConfigError("client key of " + where(config) +
                      " cannot be used: " + take_openssl_error());
  }
}

bool is_ip_address(const std::string& name) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  return !ec;
}

}  // namespace

ssl::context make_tls_context(const ClusterConfig& config) {
  ssl::context context(ssl::context::tls_client);
  // TLS 1.2 is the oldest version the API server accepts by default.
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);

  if (config.insecure_skip_tls_verify) {
    context.set_verify_mode(ssl::verify_none);
  } else {
    context.set_verify_mode(ssl::verify_peer);
    if (config.ca_pem.empty()) {
      context.set_default_verify_paths();
    } else {
      add_trusted_certificates(context, config.ca_pem, config);
    }
  }
  use_client_certificate(context, config);
  return context;
}

std::string tls_peer_name(const ClusterConfig& config) {
  std::string name = config.tls_server_name.empty() ? config.host : config.tls_server_name;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  return name;
}

bool prepare_tls_connection(SSL* ssl, const ClusterConfig& config) {
  const std::string name = tls_peer_name(config);
  const bool ip = is_ip_address(name);
  if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    ERR_clear_error();
    return false;
  }
  if (config.insecure_skip_tls_verify) {
    return true;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // Like Go's crypto/tls: names come from SANs only, never the subject CN.
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (ok != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

std::string describe_tls_failure(const SSL* ssl, const boost::system::error_code& ec,
                                 const ClusterConfig& config) {
  std::string text = ec.message();
  if (ssl == nullptr || ec.category() != boost::asio::error::get_ssl_category()) {
    return text;
  }
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK) {
    return text;
  }
  text += " (";
  text += X509_verify_cert_error_string(verify);
  text += ")";
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    text += ": the server certificate is not valid for \"" + tls_peer_name(config) + "\"";
  }
  return text;
}

}  // namespace cd4ml::kube
