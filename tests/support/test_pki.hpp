#pragma once
// Certificates for TLS tests, made in memory with OpenSSL's API: a CA, a
// server certificate and a client certificate it signs. No files, no openssl
// command line; every test gets fresh keys.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cd4ml::test_support {

struct PemPair {
  std::string cert;
  std::string key;
};

struct TestPki {
  PemPair ca;
  PemPair server;  // signed by ca
  PemPair client;  // signed by ca, for client-certificate authentication
};

struct TestPkiOptions {
  std::string ca_name = "cd4ml test CA";
  std::string server_name = "cd4ml test server";  // subject CN of the server certificate
  std::string server_alt_names = "IP:127.0.0.1,DNS:localhost";
  std::string client_name = "cd4ml-test-client";
};

namespace pki_detail {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

inline void check(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("test PKI: ") + what + " failed");
  }
}

inline Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

inline void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value.c_str());
  check(extension != nullptr, "building a certificate extension");
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  check(added == 1, "adding a certificate extension");
}

// issuer == nullptr: self-signed (the CA).
inline Cert new_cert(EVP_PKEY* key, const std::string& common_name, long serial, X509* issuer,
                     EVP_PKEY* issuer_key,
                     const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1, "setting the serial");
  // Valid from an hour ago, so clock differences cannot make it "not yet valid".
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2L * 24 * 3600) != nullptr, "notAfter");
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "setting the subject");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "setting the issuer");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  for (const auto& [nid, value] : extensions) {
    add_extension(cert.get(), signer, nid, value);
  }
  check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0,
        "X509_sign");
  return cert;
}

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

inline PemPair to_pem(X509* cert, EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  check(cert_bio && key_bio, "BIO_new");
  check(PEM_write_bio_X509(cert_bio.get(), cert) == 1, "writing a certificate");
  check(PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "writing a key");
  return PemPair{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

}  // namespace pki_detail

inline TestPki make_test_pki(const TestPkiOptions& options = {}) {
  using namespace pki_detail;
  const Key ca_key = new_key();
  const Cert ca = new_cert(ca_key.get(), options.ca_name, 1, nullptr, nullptr,
                           {{NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"}});

  const Key server_key = new_key();
  std::vector<std::pair<int, std::string>> server_extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"}};
  if (!options.server_alt_names.empty()) {
    server_extensions.emplace_back(NID_subject_alt_name, options.server_alt_names);
  }
  const Cert server =
      new_cert(server_key.get(), options.server_name, 2, ca.get(), ca_key.get(), server_extensions);

  const Key client_key = new_key();
  const Cert client = new_cert(client_key.get(), options.client_name, 3, ca.get(), ca_key.get(),
                               {{NID_basic_constraints, "critical,CA:FALSE"},
                                {NID_key_usage, "critical,digitalSignature"},
                                {NID_ext_key_usage, "clientAuth"}});

  return TestPki{to_pem(ca.get(), ca_key.get()), to_pem(server.get(), server_key.get()),
                 to_pem(client.get(), client_key.get())};
}

}  // namespace cd4ml::test_support
