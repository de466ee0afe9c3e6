"""Every finding code the program itself raises: severity, Vietnamese title, message template, what to do.

The rules of `definition/rules.yaml` are findings too; their id is the code and their
message is written there. README.md shows this catalogue as a table (a test keeps
the two equal), so an officer who sees a code can look up what to do about it.
"""
from __future__ import annotations

from dataclasses import dataclass

from toolkit.definition.findings import ERROR, SEVERITY_VI, WARNING
from toolkit.vnformat import clip


@dataclass(frozen=True)
class Code:
    code: str  # stable kebab-case
    severity: str  # ERROR blocks the submission, WARNING asks for a second look
    title: str
    template: str  # str.format template of the message, filled with the values of the finding
    action: str  # what the officer should do

    def message(self, **fields) -> str:
        # a value typed by the user may be a whole page of text: quote its start only (a long label stays whole)
        return self.template.format(**{k: clip(v, 300) if isinstance(v, str) else v for k, v in fields.items()})


CATALOGUE: dict[str, Code] = {c.code: c for c in (
    # Refusing a file: nothing in it can be read (the message names the file and the reason)
    Code("khong-tim-thay-tep", ERROR, "Không tìm thấy tệp", "không tìm thấy tệp",
         "Kiểm tra lại đường dẫn và tên tệp"),
    Code("khong-phai-so-tinh", ERROR, "Không phải sổ tính Excel", "tệp không phải sổ tính Excel (.xlsx)",
         "Mở bằng Excel và lưu lại dạng Excel Workbook (.xlsx)"),
    Code("tep-hong", ERROR, "Tệp hỏng", "tệp hỏng hoặc không đầy đủ, không đọc được nội dung; hãy mở và lưu lại "
         "bằng Excel", "Mở tệp bằng Excel, lưu lại rồi gửi lại; nếu Excel cũng không mở được, hãy lấy bản sao lưu"),
    Code("tep-co-mat-khau", ERROR, "Tệp có mật khẩu", "tệp được đặt mật khẩu; hãy gỡ mật khẩu rồi gửi lại",
         "Mở bằng Excel, gỡ mật khẩu (Tệp › Thông tin › Bảo vệ sổ làm việc) rồi gửi lại"),
    Code("tep-qua-lon", ERROR, "Tệp quá lớn", "tệp quá lớn so với một phiếu số liệu",
         "Xóa dữ liệu thừa (ảnh, sheet, hàng nghìn dòng trống có định dạng) rồi lưu lại"),
    Code("noi-dung-khong-an-toan", ERROR, "Nội dung không an toàn",
         "tệp chứa nội dung không an toàn (khai báo DTD, thực thể XML hoặc tệp nén bất thường), từ chối đọc; hãy "
         "mở và lưu lại bằng Excel", "Tệp không do Excel tạo ra; hãy chép số liệu sang mẫu mới"),
    Code("sai-bieu-mau", ERROR, "Không phải phiếu của biểu mẫu này",
         "không phải phiếu số liệu của biểu mẫu này (khác biểu mẫu, khác phiên bản hoặc thiếu sheet chính)",
         "Dùng mẫu tạo bởi «baocao tao-mau», chép số liệu sang nếu cần"),
    Code("loi-doc-khong-mong-doi", ERROR, "Lỗi đọc ngoài dự kiến",
         "phần mềm gặp lỗi khi đọc tệp này; chi tiết đã ghi vào nhật ký cho người quản trị",
         "Gửi tệp cho người quản trị"),
    # Reading the workbook
    Code("gia-tri-khong-doc-duoc", ERROR, "Giá trị không đọc được", "{label}: {reason}",
         "Nhập lại ô bằng một số (hoặc ngày, hoặc mục trong danh sách chọn) đúng kiểu của chỉ tiêu"),
    Code("ky-tu-dieu-khien", WARNING, "Ký tự điều khiển trong ô",
         "{label}: ô chứa ký tự điều khiển không in được ({chars}); phần mềm đã bỏ các ký tự này khi đọc",
         "Gõ lại nội dung ô thay vì dán từ phần mềm khác, rồi kiểm tra lại"),
    Code("so-qua-lon", ERROR, "Số lớn bất thường",
         "{label}: {value} lớn bất thường (vượt {limit}); số liệu của một xã không lớn như vậy",
         "Kiểm tra lại ô: có thể gõ thừa chữ số hoặc dán nhầm dữ liệu"),
    Code("ma-khong-xac-dinh", WARNING, "Mã chỉ tiêu lạ", "Mã «{code}» không có trong biểu mẫu; dòng này không "
         "được đọc", "Không sửa cột Mã; nếu đã sửa, hãy trả lại mã gốc hoặc dùng mẫu mới"),
    Code("ma-trung", ERROR, "Mã chỉ tiêu lặp lại", "Mã «{code}» xuất hiện lần nữa (đã có ở {first})",
         "Xóa dòng chép thừa; mỗi chỉ tiêu chỉ có một dòng"),
    Code("thieu-chi-tieu", ERROR, "Thiếu dòng chỉ tiêu",
         "Không tìm thấy dòng có mã «{code}» ({label}) trong sheet «{sheet}»",
         "Khôi phục dòng đã xóa hoặc chép số liệu sang mẫu mới"),
    Code("o-bi-gop", ERROR, "Ô nhập bị gộp", "Ô giá trị của «{label}» bị gộp (merge) với ô khác; hãy bỏ gộp ô",
         "Chọn ô, bấm Merge & Center để bỏ gộp, rồi nhập lại từng số"),
    Code("thieu-sheet", ERROR, "Thiếu sheet", "Thiếu sheet «{sheet}» (bị xóa hoặc đổi tên)",
         "Trả lại tên sheet gốc hoặc chép số liệu sang mẫu mới"),
    Code("thieu-tieu-de-bang", ERROR, "Thiếu tiêu đề bảng",
         "Sheet «{sheet}» không có dòng tiêu đề bảng (cột «{column}»)",
         "Khôi phục dòng tiêu đề của bảng (có thể chép từ mẫu trống)"),
    Code("thieu-cot", ERROR, "Thiếu cột trong bảng", "Bảng «{sheet}» thiếu cột «{column}»",
         "Khôi phục cột đã xóa hoặc đổi tên"),
    Code("loi-cong-thuc", ERROR, "Ô báo lỗi công thức", "Ô giá trị của {code} báo lỗi {error}{formula}",
         "Xóa công thức và nhập số trực tiếp"),
    Code("cong-thuc-trong-o-nhap", WARNING, "Công thức trong ô nhập",
         "Ô giá trị của {code} chứa công thức {formula}; phần mềm dùng kết quả đã lưu, hãy nhập số trực tiếp",
         "Thay công thức bằng số (sao chép, dán giá trị)"),
    # Checking the figures
    Code("thieu-gia-tri-bat-buoc", ERROR, "Chưa nhập ô bắt buộc", "Chưa nhập «{label}» (bắt buộc)",
         "Nhập giá trị cho ô"),
    Code("ngoai-gioi-han", ERROR, "Ngoài khoảng cho phép",
         "{label} = {value} nằm ngoài khoảng cho phép [{lo}; {hi}]", "Sửa số liệu; số đếm không được âm"),
    Code("thieu-so-lieu-thanh-phan", WARNING, "Thành phần để trống",
         "{blank} để trống{need}",
         "Nhập các thành phần (ghi 0 nếu bằng không) hoặc sửa số tổng cho khớp"),
    Code("ty-le-khong-khop", ERROR, "Tỷ lệ không khớp số liệu",
         "{label} ghi {value}% nhưng {num}/{den} = {exact}%: {verdict}",
         "Tính lại tỷ lệ từ hai số liệu, làm tròn nửa lên"),
    Code("ky-truoc-khong-khop", ERROR, "Không khớp kỳ trước",
         "Hồ sơ từ kỳ trước chuyển sang ({now}) phải bằng hồ sơ đang giải quyết cuối kỳ trước ({before}, {where})",
         "Đối chiếu với phiếu kỳ trước đã gửi"),
    Code("bat-thuong-lich-su", WARNING, "Bất thường so với các kỳ trước", "{message}",
         "Xem lại số liệu và đơn vị tính; nếu đúng, ghi rõ lý do ở cột «Giải trình» cùng dòng của sheet «Số liệu» "
         "để Sở Nội vụ xác minh, chấp nhận"),
    Code("kiem-tra-that-bai", ERROR, "Không kiểm tra được",
         "Không kiểm tra được tệp này do lỗi của phần mềm; hãy báo cho người quản trị",
         "Gửi tệp cho người quản trị kèm nhật ký (chạy lại với --chi-tiet)"),
    # City consolidation
    Code("tep-khong-tong-hop", WARNING, "Tệp không đưa vào tổng hợp", "{reason}",
         "Xem lý do (khác kỳ, mã đơn vị lạ, bản cũ, không đọc được, không lưu được vào kho); sửa tệp rồi tổng hợp "
         "lại, hoặc bỏ tệp khỏi thư mục"),
    # Metadata, documents, Chính quyền thân thiện
    Code("don-vi-khong-khop", ERROR, "Tên đơn vị không khớp mã",
         "Tên đơn vị «{name}» không khớp mã {code} (mã này là «{expected}»)",
         "Chọn lại mã đơn vị hoặc tên đơn vị trong danh sách"),
    Code("ky-ngoai-thoi-gian", ERROR, "Khoảng số liệu ngoài kỳ",
         "Khoảng số liệu {start} – {end} không nằm trong kỳ {ky} ({p_start} – {p_end})",
         "Sửa Từ ngày, Đến ngày hoặc kỳ báo cáo"),
    Code("vb-so-sai-dang", ERROR, "Số văn bản sai dạng",
         "{name}: số «{so}» không đúng dạng (số thứ tự, văn bản QPPL kèm năm: 01/2026)",
         "Ghi số thứ tự của văn bản, không ghi ký hiệu vào ô số"),
    Code("vb-ky-hieu-sai-dang", ERROR, "Ký hiệu văn bản sai dạng",
         "{name}: ký hiệu «{ky_hieu}» không đúng dạng (chữ in hoa nối bằng dấu gạch ngang, không có khoảng trắng, "
         "ví dụ QĐ-UBND)", "Ghi ký hiệu đúng như trên văn bản"),
    Code("vb-loai-ky-hieu", ERROR, "Loại văn bản và ký hiệu không khớp",
         "{name}: loại «{loai}» phải có ký hiệu bắt đầu bằng «{want}-», nhưng ký hiệu là «{ky_hieu}»{other}",
         "Sửa loại văn bản hoặc ký hiệu cho khớp với văn bản gốc"),
    Code("vb-cong-van-ky-hieu", ERROR, "Công văn mang ký hiệu loại văn bản",
         "{name}: công văn không có ký hiệu loại văn bản, nhưng ký hiệu «{ky_hieu}» là của {owner}",
         "Sửa loại văn bản hoặc ký hiệu cho khớp với văn bản gốc"),
    Code("vb-ngay-sau-bao-cao", ERROR, "Văn bản ban hành sau ngày báo cáo",
         "{name}: ngày ban hành sau {date_name} ({date})", "Sửa ngày ban hành hoặc bỏ văn bản khỏi kỳ này"),
    Code("vb-trung-so-khac-ngay", ERROR, "Trùng số, ký hiệu nhưng khác ngày",
         "{name}: cùng số, ký hiệu với văn bản ở {first} nhưng khác ngày ({other_date})",
         "Kiểm tra lại số, ký hiệu và ngày của hai văn bản"),
    Code("cqtt-diem-vuot-toi-da", ERROR, "Điểm tự chấm vượt điểm tối đa",
         "Điểm tự chấm ({score}) lớn hơn điểm tối đa ({top}) của tiêu chí thành phần «{criterion}»",
         "Chấm lại điểm, không vượt điểm tối đa"),
    Code("cqtt-tthc-qua-han", ERROR, "Điểm tối đa khi có hồ sơ quá hạn",
         "Tiêu chí «{criterion}» không thể đạt điểm tối đa khi có {overdue} hồ sơ giải quyết quá hạn ({where})",
         "Trừ điểm tiêu chí theo số hồ sơ quá hạn"),
    # Sheets Nội dung, Báo cáo, Số liệu riêng: what each report of the workbook carries
    Code("bao-cao-khong-co", ERROR, "Loại báo cáo không có",
         "Cột «Dùng cho báo cáo» ghi «{name}», không phải loại báo cáo nào (các loại: {codes})",
         "Chọn loại báo cáo trong danh sách (nhiều loại thì cách nhau dấu chấm phẩy), hoặc để trống nếu đoạn văn dùng "
         "cho mọi báo cáo"),
    Code("muc-chua-co-noi-dung", WARNING, "Mục báo cáo chưa có nội dung",
         "Báo cáo «{loai}»: mục «{section}» chưa có nội dung, bản chính thức của báo cáo này chưa lập được",
         "Nhập đoạn văn cho mục này ở sheet «Nội dung» (cột «Dùng cho báo cáo» để trống hoặc ghi «{loai}»), hoặc "
         "các dòng của bảng; bản dự thảo (--du-thao) đánh dấu mục này"),
    Code("so-lieu-rieng-sai", ERROR, "Số liệu riêng không hợp lệ",
         "Số liệu riêng của «{label}» là {value}: {reason}", "Sửa giá trị theo đúng kiểu của chỉ tiêu ở sheet Số liệu"),
    Code("thoi-gian-nguoc", ERROR, "Khoảng thời gian riêng ngược",
         "{label}: «Từ ngày» {start} sau «Đến ngày» {end}",
         "Sửa Từ ngày hoặc Đến ngày của dòng này ở sheet Số liệu riêng"),
    Code("thoi-gian-ngoai-ky", ERROR, "Khoảng thời gian riêng ngoài kỳ",
         "{label}: ngày {date} nằm ngoài kỳ báo cáo ({p_start} – {p_end}); số liệu của sheet Số liệu được tính "
         "trong kỳ",
         "Sửa ngày; số liệu tính cho khoảng thời gian khác kỳ thì ghi vào cột Giá trị của dòng này (số liệu riêng "
         "của báo cáo)"),
    Code("thoi-gian-khong-hop-ly", ERROR, "Khoảng thời gian riêng không hợp lý",
         "{label}: ngày {date} nằm ngoài khoảng thời gian của số liệu riêng ({low} – {high}: từ đầu năm {first_year} "
         "đến {date_name})",
         "Sửa Từ ngày hoặc Đến ngày của dòng này ở sheet Số liệu riêng (gõ nhầm năm?)"),
    Code("cqtt-tong-diem-toi-da", ERROR, "Tổng điểm tối đa sai",
         "Tổng điểm tối đa các tiêu chí thành phần của «{criterion}» là {total}, phải {need} {limit}",
         "Không sửa cột điểm tối đa; chép lại từ mẫu"),
)}


def code(name: str) -> Code:
    """The catalogue entry of a code (a KeyError names a code missing from the catalogue: a bug)."""
    return CATALOGUE[name]


def message(name: str, /, **fields) -> str:
    return CATALOGUE[name].message(**fields)


def severity(name: str) -> str:
    return CATALOGUE[name].severity


def markdown_table() -> str:
    """The catalogue as the table README.md shows (`python -m toolkit.definition.catalogue` prints it)."""
    lines = ["| mã | mức độ | tên | thông báo (mẫu) | cách xử lý |", "|---|---|---|---|---|"]
    for c in CATALOGUE.values():
        lines.append(f"| `{c.code}` | {SEVERITY_VI[c.severity]} | {c.title} | {c.template} | {c.action} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
