# CS_ADD_CFLAG(FLAG, VAR): append FLAG to VAR when $CC accepts it (as an error).
AC_DEFUN([CS_ADD_CFLAG], [
  AS_VAR_PUSHDEF([cs_cv], [cs_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [cs_cv], [
    cs_save_CFLAGS="$CFLAGS"
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([cs_cv], [yes])], [AS_VAR_SET([cs_cv], [no])])
    CFLAGS="$cs_save_CFLAGS"])
  AS_VAR_IF([cs_cv], [yes], [$2="$$2 $1"])
  AS_VAR_POPDEF([cs_cv])
])
