/* Stand-in for type-checking only: the subset of the TensorFlow Lite C API that tflitec 0.7.0
 * calls, with TensorFlow 2.19's signatures. Not the real header; do not link against it. */
#ifndef TENSORFLOW_LITE_C_C_API_H_
#define TENSORFLOW_LITE_C_C_API_H_
#include "tensorflow/lite/core/c/c_api.h"
#endif
