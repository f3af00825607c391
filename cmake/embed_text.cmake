# Writes a C file defining `const char <SYMBOL>[]` (NUL-terminated) with the bytes of INPUT, so the daemon
# carries a built-in copy of a file it also installs (the default seccomp profile).
# cmake -DINPUT=<file> -DOUTPUT=<file.c> -DSYMBOL=<name> -P embed_text.cmake
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n"
       bytes "${bytes}")
file(WRITE ${OUTPUT}.tmp "/* generated from ${INPUT} by cmake/embed_text.cmake */\nextern const char ${SYMBOL}[];\n"
     "const char ${SYMBOL}[] = {\n${bytes}0x00};\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
