/* Stand-in for type-checking only (see tensorflow/lite/c/c_api.h). */
#ifndef TENSORFLOW_LITE_BUILTIN_OPS_H_
#define TENSORFLOW_LITE_BUILTIN_OPS_H_
#endif
