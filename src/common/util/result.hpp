// Result<T>: a value or an error message — the return type of every parser and decoder that
// must not throw (units, wire decoding). A small stand-in for C++23 std::expected.
//
//   Result<std::uint64_t> r = parse_size("2Ki");
//   if (!r) { log(r.error()); return; }
//   use(*r);
//
// Accessing value() of a failed Result is a programming error and throws std::logic_error
// (never reached on network input: callers test ok() first).
#pragma once

#include <concepts>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace bts::util {

// The error half of a Result. Construct with Error{"what was wrong"}.
struct Error {
    std::string message;
};

template <class T>
class [[nodiscard]] Result {
  public:
    using value_type = T;

    // Implicit from anything convertible to T, so `return value;` works in a Result function.
    template <class U = T>
    requires(std::is_convertible_v<U&&, T> && !std::is_same_v<std::remove_cvref_t<U>, Error> &&
             !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& value)
        : v_(std::in_place_index<0>, std::forward<U>(value)) {}
    // Implicit from Error, so `return Error{"..."};` works.
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return checked(); }
    const T& value() const& { return const_cast<Result*>(this)->checked(); }
    T&& value() && { return std::move(checked()); }
    T& operator*() & { return checked(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(checked()); }
    T* operator->() { return &checked(); }
    const T* operator->() const { return &value(); }

    template <class U>
    T value_or(U&& fallback) const& {
        return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

    // The error message; empty when ok().
    const std::string& error() const {
        static const std::string kEmpty;
        return ok() ? kEmpty : std::get<1>(v_).message;
    }

  private:
    T& checked() {
        if (!ok()) throw std::logic_error("Result::value() on error: " + std::get<1>(v_).message);
        return std::get<0>(v_);
    }

    std::variant<T, Error> v_;
};

}  // namespace bts::util
