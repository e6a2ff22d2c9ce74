// Buffered sequential reading of an input file. Internal to the traces library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace schedlab::traces::detail {

// Reads a file front to back through one growable buffer, so that memory follows the largest
// record looked at, never the size of the file. Failures to open or read are input_errors
// naming the file.
class file_buffer {
public:
    explicit file_buffer(std::string path, std::size_t initial_capacity = 1 << 16);
    ~file_buffer();
    file_buffer(const file_buffer&) = delete;
    file_buffer& operator=(const file_buffer&) = delete;

    const std::string& path() const { return path_; }

    // Makes at least `count` bytes available at data(); false if the file ends first, in
    // which case available() tells how many bytes remain.
    bool ensure(std::size_t count) { return end_ - pos_ >= count || fill(count); }
    std::size_t available() const { return end_ - pos_; }
    const unsigned char* data() const { return buffer_.data() + pos_; }
    void consume(std::size_t count) {
        pos_ += count;
        consumed_ += count;
    }
    // Discards up to `count` bytes without holding them; returns how many were discarded.
    std::uint64_t skip(std::uint64_t count);
    // The file offset of data()[0].
    std::uint64_t offset() const { return consumed_; }

private:
    bool fill(std::size_t count);

    std::string path_;
    int fd_ = -1;
    bool eof_ = false;
    std::vector<unsigned char> buffer_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    std::uint64_t consumed_ = 0;
};

}  // namespace schedlab::traces::detail
