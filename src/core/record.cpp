#include "rapidmarc/record.hpp"

#include "rapidmarc/writer.hpp"

namespace rapidmarc {

const std::string* Field::get(char code) const noexcept {
    for (const auto& sf : subfields)
        if (sf.code == code) return &sf.value;
    return nullptr;
}

Record Record::from_view(const RecordView& view) {
    Record record;
    record.leader.assign(view.leader());
    record.fields.reserve(view.size());
    for (std::size_t i = 0; i < view.size(); ++i) {
        FieldView fv = view.field(i);
        Field& f = record.fields.emplace_back();
        f.tag.assign(fv.tag());
        if (fv.is_control()) {
            f.data.assign(fv.data());
            continue;
        }
        f.indicator1 = fv.indicator1();
        f.indicator2 = fv.indicator2();
        for (const SubfieldView& sf : fv.subfields()) f.subfields.push_back({sf.code, std::string(sf.value)});
    }
    return record;
}

const Field* Record::get(std::string_view tag) const noexcept {
    for (const auto& f : fields)
        if (f.tag == tag) return &f;
    return nullptr;
}

std::string Record::to_marc() const {
    RecordBuilder builder;
    builder.reset(leader);
    for (const auto& f : fields) {
        builder.begin_field(f.tag);
        if (f.is_control()) {
            builder.append_value(f.data);
        } else {
            builder.append_value(std::string_view(&f.indicator1, 1));
            builder.append_value(std::string_view(&f.indicator2, 1));
            for (const auto& sf : f.subfields) builder.append_subfield(std::string_view(&sf.code, 1), sf.value);
        }
        builder.end_field();
    }
    std::string out, detail;
    if (ErrorCode rc = builder.finish(out, &detail); rc != ErrorCode::ok) throw ParseError(Error{rc, 0, 0, detail});
    return out;
}

}  // namespace rapidmarc
