/* Stand-in for type-checking only (see tensorflow/lite/c/c_api.h). */
#ifndef TENSORFLOW_LITE_CORE_C_OPERATOR_H_
#define TENSORFLOW_LITE_CORE_C_OPERATOR_H_
#endif
