#pragma once
// TLS for connections to the API server, built from ClusterConfig the way
// client-go builds its tls.Config: TLS 1.2 or newer, the server certificate
// verified against the cluster's CA (or the system trust store), its name
// checked against the host we dialled (DNS or IP SAN, never the subject CN),
// and a client certificate when the user has one. Certificates come from
// memory (PEM text), never from temporary files.

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <string>

#include "operator/kube/config.hpp"

namespace cd4ml::kube {

// The context shared by every connection of one Transport. Throws ConfigError
// naming the configuration and the field at fault when PEM data is unusable
// (no certificate in the CA data, a key that does not match its certificate).
boost::asio::ssl::context make_tls_context(const ClusterConfig& config);

// The name the server certificate must carry: tls_server_name when set, else
// the host of the server URL (IPv6 brackets removed).
std::string tls_peer_name(const ClusterConfig& config);

// Per-connection settings on a new SSL object, before its handshake: SNI for
// DNS names (IP literals are not allowed in SNI) and the expected identity for
// hostname verification (skipped only with insecure_skip_tls_verify).
// Returns false when OpenSSL refuses the name.
bool prepare_tls_connection(SSL* ssl, const ClusterConfig& config);

// A readable reason for a failed handshake or TLS read: OpenSSL's error text
// plus, when certificate verification failed, why ("unable to get local
// issuer certificate", "IP address mismatch", ...) and, for a name mismatch,
// the name that was expected.
std::string describe_tls_failure(const SSL* ssl, const boost::system::error_code& ec,
                                 const ClusterConfig& config);

}  // namespace cd4ml::kube
