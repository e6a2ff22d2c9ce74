#include "traces/file_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "traces/trace.hpp"

namespace schedlab::traces::detail {

file_buffer::file_buffer(std::string path, std::size_t initial_capacity)
    : path_(std::move(path)), buffer_(std::max<std::size_t>(initial_capacity, 16)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        throw input_error(path_, "byte 0", "file", "a readable file", std::strerror(errno));
    }
}

file_buffer::~file_buffer() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool file_buffer::fill(std::size_t count) {
    if (pos_ > 0) {
        // Moving the unread tail to the front keeps the buffer from growing with the file.
        std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
        end_ -= pos_;
        pos_ = 0;
    }
    if (count > buffer_.size()) {
        buffer_.resize(std::max(count, buffer_.size() * 2));
    }
    while (end_ < count && !eof_) {
        const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw input_error(path_, "byte " + std::to_string(consumed_ + end_), "file",
                              "a readable file", std::strerror(errno));
        }
        if (got == 0) {
            eof_ = true;
        }
        end_ += static_cast<std::size_t>(got);
    }
    return end_ >= count;
}

std::uint64_t file_buffer::skip(std::uint64_t count) {
    std::uint64_t skipped = 0;
    while (skipped < count) {
        if (available() == 0 && !ensure(1)) {
            break;
        }
        const std::uint64_t step = std::min<std::uint64_t>(count - skipped, available());
        consume(static_cast<std::size_t>(step));
        skipped += step;
    }
    return skipped;
}

}  // namespace schedlab::traces::detail
