// Internal: the pool of consumed batches a batch stream reuses. Installed because BatchReader and
// ParallelReader hold one by value; not part of the API (namespace rapidmarc::detail may change).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace rapidmarc {
struct Batch;
}

namespace rapidmarc::detail {

// Consumed batches kept for reuse, so that their buffers are allocated once. Thread-safe.
class BatchPool {
public:
    // Out of line, as the destructor: Batch is incomplete here (batch.hpp includes this header).
    explicit BatchPool(std::size_t capacity = 0) noexcept;
    ~BatchPool();
    BatchPool(const BatchPool&) = delete;
    BatchPool& operator=(const BatchPool&) = delete;

    void set_capacity(std::size_t capacity) noexcept { capacity_ = capacity; }
    // A spare batch, or a new one.
    std::unique_ptr<Batch> take();
    // Keeps `batch` unless `capacity` batches are already kept.
    void give(std::unique_ptr<Batch> batch);

private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<Batch>> spare_;
    std::size_t capacity_;
};

}  // namespace rapidmarc::detail
