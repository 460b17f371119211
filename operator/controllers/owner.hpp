#pragma once
// Controller ownerReferences: how the operator marks what it created, and how
// it tells its own objects from a user's object of the same name.

#include <nlohmann/json.hpp>
#include <string>

namespace cd4ml::controllers {

// The ownerReference that makes `owner` the controller of an object (garbage
// collection removes the object with its owner).
nlohmann::json controller_reference(const nlohmann::json& owner);
// True when `object` has a controller ownerReference to the object with this uid.
bool is_controlled_by(const nlohmann::json& object, const std::string& owner_uid);

}  // namespace cd4ml::controllers
