#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "bench/cluster/scenarios.hpp"

namespace cd4ml::bench {

std::vector<Json> read_list_items(const std::string& file) {
  std::ostringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot open " + file);
    text << in.rdbuf();
  }
  Json list = Json::parse(text.str());
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    throw std::runtime_error(file + " is not a List document with items");
  }
  std::vector<Json> items;
  items.reserve(list["items"].size());
  for (auto& item : list["items"]) items.push_back(std::move(item));
  return items;
}

}  // namespace cd4ml::bench
