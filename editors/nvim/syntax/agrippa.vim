" Agrippa markup: XML plus var(...), expr(...), op names and tensor references.
if exists('b:current_syntax')
  finish
endif
runtime! syntax/xml.vim
unlet! b:current_syntax

syntax match agrippaVar /\<var\ze\s*(/ contained containedin=xmlString
syntax match agrippaExpr /\<expr\ze\s*(/ contained containedin=xmlString
syntax match agrippaBinding /\(\<var\s*(\s*\)\@<=[A-Za-z_][A-Za-z0-9_.]*/ contained containedin=xmlString
syntax match agrippaNumber /\<\d\+\(\.\d*\)\=\([eE][-+]\=\d\+\)\=\>/ contained containedin=xmlString
syntax match agrippaOp /\(\sop\s*=\s*"\)\@<=[^"]\+/ contained containedin=xmlString
syntax match agrippaTensorRef /\(\s\(src\|from\)\s*=\s*"\)\@<=[^"]\+/ contained containedin=xmlString
syntax match agrippaTensorDef /\(<output\>[^>]*\sname\s*=\s*"\)\@<=[^"]\+/ contained containedin=xmlString

highlight default link agrippaVar Function
highlight default link agrippaExpr Function
highlight default link agrippaBinding Identifier
highlight default link agrippaNumber Number
highlight default link agrippaOp Type
highlight default link agrippaTensorRef Identifier
highlight default link agrippaTensorDef Special

let b:current_syntax = 'agrippa'
