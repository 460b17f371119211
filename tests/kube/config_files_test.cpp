#include "operator/kube/config_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/temp_files.hpp"
#include "operator/kube/config.hpp"

namespace cd4ml::kube::config_files {
namespace {

using ::testing::HasSubstr;

TEST(DecodeBase64, RoundTripsEveryLengthAndByteValue) {
  // Lengths 0..64 cover every padding case; the bytes cover all 256 values.
  for (std::size_t length = 0; length <= 64; ++length) {
    std::string data;
    for (std::size_t i = 0; i < length; ++i) {
      data.push_back(static_cast<char>((i * 37 + length * 11) % 256));
    }
    const auto decoded = decode_base64(testing::base64(data));
    ASSERT_TRUE(decoded.has_value()) << "length " << length;
    EXPECT_EQ(*decoded, data) << "length " << length;
  }
}

TEST(DecodeBase64, PaddingIsOptionalAndNotCountedAsData) {
  EXPECT_EQ(decode_base64("YQ=="), "a");
  EXPECT_EQ(decode_base64("YQ"), "a");
  EXPECT_EQ(decode_base64("YWI="), "ab");
  EXPECT_EQ(decode_base64("YWI"), "ab");
  EXPECT_EQ(decode_base64("YWJj"), "abc");
  EXPECT_EQ(decode_base64(""), "");
}

TEST(DecodeBase64, LineBreaksAndSpacesAreIgnored) {
  EXPECT_EQ(decode_base64("  aGVs\nbG8g\r\nd29y\tbGQ=\n"), "hello world");
}

TEST(DecodeBase64, RejectsInvalidText) {
  EXPECT_FALSE(decode_base64("a*bc").has_value());      // not in the alphabet
  EXPECT_FALSE(decode_base64("YQ==YQ==").has_value());  // padding in the middle
  EXPECT_FALSE(decode_base64("YWJjZ").has_value());     // one dangling character
  EXPECT_FALSE(decode_base64("YQ===").has_value());     // three padding characters
  EXPECT_FALSE(decode_base64("YWJj=").has_value());     // padding where none fits
  EXPECT_FALSE(decode_base64("YW-j").has_value());      // URL-safe alphabet is not kubeconfig's
}

TEST(ConfigFiles, ReadNamesWhatAndWhyOnFailure) {
  testing::TempDir dir;
  EXPECT_EQ(read(dir.write("f", "content\n"), "thing"), "content\n");
  try {
    read(dir.path() / "missing", "client key");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read client key " + (dir.path() / "missing").string() +
                                    ": No such file or directory"));
  }
  try {
    read(dir.path(), "CA");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("it is a directory"));
  }
}

TEST(ConfigFiles, EndlessFilesAreRefusedInsteadOfReadForever) {
  try {
    read("/dev/zero", "certificate-authority");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/dev/zero: larger than 16 MiB"));
  }
}

TEST(ConfigFiles, TrimRemovesSurroundingWhitespaceOnly) {
  EXPECT_EQ(trim("  a b\r\n\t"), "a b");
  EXPECT_EQ(trim("\n\n"), "");
}

}  // namespace
}  // namespace cd4ml::kube::config_files
