# Passed to llama-cpp-python's build as CMAKE_PROJECT_llama.cpp_INCLUDE, so CMake reads it right after
# llama.cpp's own project() call. llama-cpp-python forces llama.cpp's "common" library (and with it
# cpp-httplib) on, but its Python bindings never load it: turning it off halves the compile
# (3 min instead of 6 on 2 cores). The text server needs only libllama and libggml.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
